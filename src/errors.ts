/**
 * Errors of workq, and how errors cross threads as data.
 * @module
 */

/** Why a worker ended before its task did. */
export type WorkerFailure =
  | "exit"
  | "crash"
  | "terminated"
  | "spawn"
  | "timeout"
  | "aborted"
  | "memory";

/**
 * A worker ended without finishing its task: it exited, crashed outside the
 * task, was terminated, or could not start.
 *
 * @example Tell a dead worker from a task that threw
 * ```ts
 * import { run, WorkerError } from "@workq/workq";
 * const handle = run(() => new Promise(() => {}));
 * handle.terminate();
 * try {
 *   await handle.result;
 * } catch (error) {
 *   console.log(error instanceof WorkerError && error.reason); // "terminated"
 * }
 * ```
 */
export class WorkerError extends Error {
  /** The worker's readable name. */
  readonly worker: string;
  /** How it ended. */
  readonly reason: WorkerFailure;
  /** The exit code, where the runtime reported one. */
  readonly exitCode: number | undefined;

  /**
   * Creates the error; workq does, when a worker ends early.
   * @param worker The worker's name.
   * @param reason How it ended.
   * @param detail What happened, in words.
   * @param options `cause` and `exitCode`.
   */
  constructor(
    worker: string,
    reason: WorkerFailure,
    detail: string,
    options: { cause?: unknown; exitCode?: number } = {},
  ) {
    super(`Worker "${worker}" ${detail}`, { cause: options.cause });
    this.name = "WorkerError";
    this.worker = worker;
    this.reason = reason;
    this.exitCode = options.exitCode;
  }
}

/** An error as data, so that it survives the trip between threads whole. */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  code?: unknown;
}

/** Turns a thrown value into data that keeps name, message, stack, cause and code. */
export function errorToData(
  error: unknown,
  depth = 0,
): ErrorData | { value: unknown } {
  if (!(error instanceof Error)) {
    try {
      return { value: structuredClone(error) };
    } catch {
      return { value: String(error) };
    }
  }
  const data: ErrorData = {
    name: error.name,
    message: error.message,
    stack: error.stack,
  };
  if ("code" in error) data.code = (error as { code: unknown }).code;
  if (error.cause !== undefined && depth < 8) {
    data.cause = errorToData(error.cause, depth + 1);
  }
  return data;
}

/** The error classes every runtime has, by name: rebuilt as themselves. */
export const builtinErrors: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

// Deno's own error classes (`Deno.errors.NotCapable` for a permission a
// narrowed worker lacks, `NotFound`, ...) come back as themselves on Deno,
// so that `instanceof Deno.errors.X` holds in the caller as in the worker.
function denoError(name: string): ErrorConstructor | undefined {
  const errors = (globalThis as {
    Deno?: { errors?: Record<string, unknown> };
  }).Deno?.errors;
  const Ctor = errors && Object.hasOwn(errors, name) ? errors[name] : undefined;
  return typeof Ctor === "function" ? Ctor as ErrorConstructor : undefined;
}

/**
 * Rebuilds a thrown value from {@linkcode errorToData}; when `worker` is
 * given, the stack gains a last line naming the worker it came from.
 */
export function dataToError(
  data: ErrorData | { value: unknown },
  worker?: string,
): unknown {
  if ("value" in data) return data.value;
  const Ctor = Object.hasOwn(builtinErrors, data.name)
    ? builtinErrors[data.name]
    : denoError(data.name) ?? Error;
  const error = new Ctor(data.message) as Error & {
    code?: unknown;
    worker?: string;
  };
  if (error.name !== data.name) error.name = data.name;
  const where = worker === undefined ? "" : `\n    at workq worker "${worker}"`;
  error.stack = (data.stack ?? `${data.name}: ${data.message}`) + where;
  if (data.cause !== undefined) {
    error.cause = dataToError(data.cause as ErrorData, undefined);
  }
  if (data.code !== undefined) error.code = data.code;
  if (worker !== undefined) error.worker = worker;
  return error;
}

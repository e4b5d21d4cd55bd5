/**
 * Starting workers: ezq's `run`.
 * @module
 */
import { brand } from "../copies.ts";
import { dataToError, WorkerError } from "../errors.ts";
import { runtime, type WorkerPort } from "../runtime/mod.ts";
import type { DenoPermissions } from "../runtime/types.ts";
import {
  specName,
  type Task,
  type TaskFunction,
  type TaskOptions,
  type TaskSpec,
  toSpec,
} from "../task.ts";
import { takeTransfer } from "../transfer.ts";
import { newThreadId } from "../queue/threads/owner.ts";
import { ownerEnded } from "../queue/threads/client.ts";
import {
  cloneError,
  decode,
  encode,
  type Lifeline,
  listCloneError,
} from "../wire.ts";
import type { StartMessage, WorkerMessage } from "./protocol.ts";
import { located, startUrl } from "./worker_url.ts";

let spawned = 0;

/** Stops a worker with the given error as its outcome (for workq's own shapes). */
export let stopWith: (
  handle: WorkerHandle<unknown>,
  error: Error,
) => Promise<void>;
const RETIRE_GRACE_MS = 1000;

/**
 * A running worker: its name, whether it is alive, a way to stop it, and the
 * promise of its task's result. It is also awaitable itself.
 *
 * @typeParam R The task's result.
 * @example
 * ```ts
 * import { run } from "@workq/workq";
 * const handle = run((n: number) => n * 2, 21);
 * console.log(handle.name, await handle.result); // "task-1" 42
 * ```
 */
export class WorkerHandle<R = unknown> implements PromiseLike<R> {
  /** A readable name: the task's name and a number. */
  readonly name: string;
  /**
   * Settles when the worker ends: with the task's return value, or rejected
   * with the task's error (its own name, message, stack and cause, and a
   * `worker` property) or a {@linkcode WorkerError} when the worker died.
   */
  readonly result: Promise<R>;
  #port: WorkerPort | undefined;
  #settle: ((ok: boolean, value: unknown) => void) | undefined;
  #lifelines: Lifeline[] = [];
  #thread: string | undefined;
  #gone: Promise<void> = Promise.resolve();

  /** @internal Use `run`. */
  constructor(name: string) {
    this.name = name;
    this.result = new Promise<R>((resolve, reject) => {
      this.#settle = (ok, value) => (ok ? resolve(value as R) : reject(value));
    });
    // Failures are reported through `result`; a caller that only collects
    // handles until endqAndWait must not crash the process in between.
    this.result.catch(() => {});
  }

  /** Whether the worker is still running its task. */
  get alive(): boolean {
    return this.#settle !== undefined;
  }

  /**
   * Stops the worker now. A task still running rejects with a
   * {@linkcode WorkerError} whose reason is `"terminated"`; items it held
   * from queues go back to them.
   * @returns A promise that resolves once the worker is gone.
   */
  terminate(): Promise<void> {
    return stopWith(
      this,
      new WorkerError(this.name, "terminated", "was terminated"),
    );
  }

  static {
    stopWith = (handle, error) => {
      handle.#end(false, error);
      return handle.#gone;
    };
  }

  /** Waits for the task's result, like `result.then`. */
  then<A = R, B = never>(
    onFulfilled?: ((value: R) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.result.then(onFulfilled, onRejected);
  }

  // A failed start: shapes that replace dead workers give up after a few.
  #notStarted(error: unknown): void {
    this.#end(
      false,
      new WorkerError(
        this.name,
        "spawn",
        `could not start: ${describe(error)}`,
        { cause: error },
      ),
    );
  }

  /** @internal */
  start(
    message: StartMessage,
    transfer: Transferable[],
    lifelines: Lifeline[],
    options: TaskOptions,
  ): void {
    this.#lifelines = lifelines;
    this.#thread = message.thread;
    let port: WorkerPort;
    try {
      const entry = startUrl();
      port = runtime.spawn(
        entry,
        this.name,
        {
          unloaded: (error) => this.#notStarted(error),
          error: (error, memory) =>
            this.#end(
              false,
              memory
                ? new WorkerError(
                  this.name,
                  "memory",
                  `ran out of memory: ${describe(error)}`,
                  { cause: error },
                )
                : new WorkerError(
                  this.name,
                  "crash",
                  `crashed: ${describe(error)}`,
                  { cause: error },
                ),
            ),
          exit: (code) =>
            this.#end(
              false,
              new WorkerError(
                this.name,
                "exit",
                `exited with code ${code} before its task finished`,
                { exitCode: code },
              ),
            ),
        },
        options.resourceLimits,
        permissionsFor(options, message.task, entry),
      );
    } catch (error) {
      this.#notStarted(error);
      return;
    }
    this.#port = port;
    port.listen((data) => this.#receive(data as WorkerMessage));
    port.post(message, transfer);
    this.#bound(options);
  }

  // A timeout or a signal stops the worker; what it held goes back.
  #bound({ timeout, signal }: TaskOptions): void {
    if (timeout !== undefined && timeout !== Infinity) {
      const timer = setTimeout(() => {
        this.#end(
          false,
          new WorkerError(
            this.name,
            "timeout",
            `ran longer than its timeout of ${timeout} ms`,
          ),
        );
      }, timeout);
      void this.result.catch(() => {}).finally(() => clearTimeout(timer));
    }
    if (signal) {
      const abort = () => {
        this.#end(
          false,
          new WorkerError(this.name, "aborted", "was aborted", {
            cause: signal.reason,
          }),
        );
      };
      if (signal.aborted) return abort();
      signal.addEventListener("abort", abort, { once: true });
      void this.result.catch(() => {}).finally(() =>
        signal.removeEventListener("abort", abort)
      );
    }
  }

  #receive(message: WorkerMessage): void {
    switch (message.t) {
      case "done":
        this.#end(
          true,
          message.wired ? decode(message.value) : message.value,
          true,
        );
        break;
      case "error":
        this.#end(false, dataToError(message.error, this.name), true);
        break;
      case "fatal": {
        const cause = dataToError(message.error, this.name);
        this.#end(
          false,
          new WorkerError(
            this.name,
            "crash",
            `crashed outside its task: ${describe(cause)}`,
            { cause },
          ),
        );
        break;
      }
      case "exit":
        this.#end(
          false,
          new WorkerError(
            this.name,
            "exit",
            `exited with code ${message.code} before its task finished`,
            {
              exitCode: message.code,
            },
          ),
        );
        break;
    }
  }

  // Settles once; always lets the thread go, so that no worker outlives its
  // task (a Deno worker would otherwise keep the process alive forever). A
  // worker that reported its end is let go gently, so that its last console
  // output is not cut off.
  #end(ok: boolean, value: unknown, reported = false): void {
    const ending = this.#settle;
    if (!ending) return;
    this.#settle = undefined;
    const settle = (ok: boolean, value: unknown) => {
      if (this.#thread) ownerEnded(this.#thread);
      ending(ok, value);
    };
    const port = this.#port;
    this.#port = undefined;
    if (reported) {
      if (port) this.#gone = port.retire(RETIRE_GRACE_MS).catch(() => {});
      settle(ok, value);
      return;
    }
    // Only once the thread has stopped is its progress final: then what it
    // held goes back to its queues, and then the run settles.
    const stopped = port ? port.terminate().catch(() => {}) : Promise.resolve();
    this.#gone = stopped.then(() => {
      for (const lifeline of this.#lifelines) lifeline(value as Error);
      settle(ok, value);
    });
  }
}
brand(WorkerHandle);

// A narrowed worker must still load workq and the task: Deno checks the
// worker_threads worker that runs it (see runtime/node.ts) for read access
// to each file: module it imports, and for import access to each host. So
// workq's own sources and the task's module file (code, no secrets) join
// what it may read, or workq's host what it may import.
function permissionsFor(
  options: TaskOptions,
  spec: TaskSpec,
  entry: URL,
): DenoPermissions | undefined {
  const given = options.deno?.permissions;
  if (given === undefined || given === "inherit") return given;
  const narrowed: Exclude<DenoPermissions, string> = given === "none"
    ? {}
    : { ...given };
  const code = [new URL("../", entry)];
  if (spec.kind === "module") code.push(new URL(spec.module));
  const files = code.filter((url) => url.protocol === "file:");
  const hosts = code.filter((url) => /^https?:$/.test(url.protocol))
    .map((url) => url.host);
  for (const [key, more] of [["read", files], ["import", hosts]] as const) {
    const allowed = narrowed[key];
    if (more.length === 0 || allowed === true || allowed === "inherit") {
      continue;
    }
    narrowed[key] = [...(allowed || []), ...more];
  }
  return narrowed;
}

function describe(error: unknown): string {
  return error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
}

/**
 * Starts one worker running `task` with `args` — ezq's `run`. Queues among
 * the arguments (at any depth) arrive live: the worker reads from and writes
 * to the same queue. Arguments cross by structured clone; mark buffers with
 * `transfer(value, list)` to move them.
 *
 * A task is a function exported by a module, named with
 * `task(url, name)` (imports and module-level state work), or a
 * self-contained function, sent as source: it sees only its parameters,
 * globals, and workq's own exports (`iterMsg`, `Msg`, `transfer`, ...).
 *
 * @param fn The task.
 * @param args The task's arguments.
 * @returns A handle: `result`, `alive`, `terminate()`, `name`.
 * @throws {TypeError} When `fn` is not a task, or an argument cannot be
 * cloned (the message names which argument and the value's type).
 * @example
 * ```ts
 * import { run } from "@workq/workq";
 * const square = run((x: number) => x * x, 12);
 * console.log(await square); // 144
 * ```
 */
export function run<F extends TaskFunction>(
  fn: Task<F>,
  ...args: Parameters<F>
): WorkerHandle<Awaited<ReturnType<F>>> {
  const { spec, options } = toSpec(fn);
  const name = `${specName(spec, options)}-${++spawned}`;
  const transfer: Transferable[] = [];
  const lifelines: Lifeline[] = [];
  const list = args.map((arg) => {
    for (const item of takeTransfer(arg)) transfer.push(item);
    return arg;
  });
  const { value, wired } = encode(list, transfer, lifelines);
  const message: StartMessage = {
    t: "start",
    name,
    thread: newThreadId(),
    task: located(spec),
    args: value as unknown[],
    wired,
  };
  const handle = new WorkerHandle<Awaited<ReturnType<F>>>(name);
  try {
    handle.start(message, transfer, lifelines, options);
  } catch (error) {
    void handle.terminate();
    const what = `run task "${name}"`;
    throw listCloneError(what, "argument", args, 0, error) ??
      cloneError(`${what} with argument 1`, args[0], error);
  }
  return handle;
}

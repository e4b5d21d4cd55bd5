/**
 * How a task is named: an export of a module (the form for real code), or a
 * self-contained function sent as source (a convenience), with the options
 * that bound its run.
 * @module
 */
import { remember, siteOf } from "./site.ts";
import * as v from "./validate.ts";
import { runtime } from "./runtime/mod.ts";
import type { DenoPermissions } from "./runtime/types.ts";

export type { DenoPermissionName, DenoPermissions } from "./runtime/types.ts";

/** Any function a worker can run: what a task's signature is checked against. */
// deno-lint-ignore no-explicit-any
export type TaskFunction = (...args: any[]) => unknown;

/**
 * Memory limits of a worker's heap, in MiB. Only Node honours them; on Deno
 * and Bun `task()` refuses them (measured: Bun and Deno's Web Workers
 * allocate past them, Deno's worker_threads stall at them).
 */
export interface ResourceLimits {
  /** The old generation's limit. */
  maxOldGenerationSizeMb?: number;
  /** The young generation's limit. */
  maxYoungGenerationSizeMb?: number;
  /** The stack's size. */
  stackSizeMb?: number;
}

/** Options of a task, given to {@linkcode task}. */
export interface TaskOptions {
  /** The workers' name, before their number. @default the function's name */
  name?: string;
  /**
   * Milliseconds the task may run; past that its worker is stopped and the
   * run rejects with a `WorkerError` whose reason is `"timeout"`.
   */
  timeout?: number;
  /** Stops the worker when aborted; the run rejects with reason `"aborted"`. */
  signal?: AbortSignal;
  /**
   * Heap limits. Node stops a worker that reaches them and workq reports
   * reason `"memory"`. Deno and Bun do not honour them: there `task()`
   * throws a `TypeError` rather than drop them.
   */
  resourceLimits?: ResourceLimits;
  /** Options only Deno honours; elsewhere `task()` throws a `TypeError`. */
  deno?: DenoTaskOptions;
}

/**
 * Deno-only options of a task.
 *
 * @example A task that may read one folder and nothing else
 * <!-- test: skip it needs Deno's --unstable-worker-options flag (tests/security_test.ts runs this form) -->
 * ```ts ignore
 * import { run, task } from "@workq/workq";
 * const read = task(new URL("./tasks.ts", import.meta.url), "readConfig", {
 *   deno: { permissions: { read: [new URL("./config/", import.meta.url)] } },
 * });
 * console.log(await run(read, "app.json"));
 * ```
 */
export interface DenoTaskOptions {
  /**
   * Narrows what the task's workers may do, as Deno's Worker option
   * `deno.permissions` does: `"none"`, `"inherit"`, or per permission
   * (`read`, `write`, `net`, `run`, `env`, `sys`, `ffi`, `import`) `true`,
   * `false` or a list of what is allowed; a permission left out is none. A
   * worker cannot get more than its parent has. What the task is denied
   * throws `Deno.errors.NotCapable` inside it, and its run rejects with
   * that class.
   *
   * It needs Deno's `--unstable-worker-options` flag: without it Deno 2.9.6
   * itself exits with code 70 at the first spawn (no API tells a program
   * whether the flag was given). The task runs on a `node:worker_threads`
   * worker inside a narrowed Web Worker, so that `timeout`, `signal` and
   * `terminate()` stop it even in a busy loop; starting one takes about
   * 0.6 s (measured). It may also read workq's own sources and the task's
   * module file (when workq came over http(s): import from workq's host),
   * which it must load; the files the task module imports need `read`.
   *
   * @example
   * <!-- test: skip it needs Deno's --unstable-worker-options flag (tests/security_test.ts runs this form) -->
   * ```ts ignore
   * import { task } from "@workq/workq";
   * const sandboxed = task(new URL("./tasks.ts", import.meta.url), "parse", {
   *   deno: { permissions: "none" },
   * });
   * ```
   */
  permissions?: DenoPermissions;
}

const PERMISSION_NAMES = [
  "env",
  "ffi",
  "import",
  "net",
  "read",
  "run",
  "sys",
  "write",
] as const;

function checkPermissions(what: string, given: unknown): void {
  const name = "options.deno.permissions";
  if (given === undefined || given === "inherit" || given === "none") return;
  if (typeof given === "string") {
    throw new TypeError(
      `Cannot ${what}: ${name} must be "inherit", "none" or an object, received ${
        v.show(given)
      }`,
    );
  }
  const each = v.options(
    what,
    name,
    given as Record<string, unknown>,
    PERMISSION_NAMES,
  );
  for (const key of PERMISSION_NAMES) {
    const value = each[key];
    if (
      value === undefined || typeof value === "boolean" || value === "inherit"
    ) continue;
    if (
      Array.isArray(value) &&
      value.every((x) => typeof x === "string" || x instanceof URL)
    ) continue;
    throw new TypeError(
      `Cannot ${what}: ${name}.${key} must be true, false, "inherit" or an array of strings or URLs, received ${
        v.show(value)
      }`,
    );
  }
}

/**
 * A task for `run`: a module export or a function, with options. The type
 * parameter carries the function's signature, so that `run` checks the
 * arguments and the result.
 */
export interface TaskRef<F extends TaskFunction = TaskFunction> {
  /** The module's absolute URL (module form). */
  readonly module?: string;
  /** The name of the exported function (module form). */
  readonly export?: string;
  /** The function, sent as source (function form). */
  readonly fn?: F;
  /** How the run is bounded. */
  readonly options: TaskOptions;
}

/** What `run` accepts as a task. */
export type Task<F extends TaskFunction = TaskFunction> = F | TaskRef<F>;

function checkOptions(
  what: string,
  options: TaskOptions | undefined,
): TaskOptions {
  const given = v.options(what, "options", options, [
    "name",
    "timeout",
    "signal",
    "resourceLimits",
    "deno",
  ]);
  v.string(what, "options.name", given.name, "");
  v.number(what, "options.timeout", given.timeout, 0, { min: 0 });
  v.signal(what, "options.signal", given.signal);
  const limitKeys = [
    "maxOldGenerationSizeMb",
    "maxYoungGenerationSizeMb",
    "stackSizeMb",
  ] as const;
  const limits = v.options(
    what,
    "options.resourceLimits",
    given.resourceLimits,
    limitKeys,
  );
  for (const key of limitKeys) {
    v.number(what, `options.resourceLimits.${key}`, limits[key], 0, { min: 0 });
  }
  const deno = v.options(what, "options.deno", given.deno, ["permissions"]);
  checkPermissions(what, deno.permissions);
  // What the runtime cannot honour is refused, never dropped without a word.
  if (given.resourceLimits !== undefined && !runtime.honoursLimits) {
    throw new TypeError(
      `Cannot ${what}: options.resourceLimits is not honoured on ${runtime.name} (its workers allocate past the limit or stall at it); only Node enforces heap limits`,
    );
  }
  if (deno.permissions !== undefined) {
    if (!runtime.narrows) {
      throw new TypeError(
        `Cannot ${what}: options.deno.permissions works only on Deno, not on ${runtime.name}; to run untrusted code here, run it in a separate process`,
      );
    }
  }
  return { ...given };
}

/**
 * Names a task — the form for real code is a module export: the module is
 * imported in the worker, so its imports and module-level state work. With
 * `typeof import(...)` as the type argument, `run` checks the arguments and
 * the result against the export's signature. A function can be given too
 * (`task(fn, options)`), to give it options.
 *
 * @param module The module's absolute URL, e.g. `new URL("./tasks.ts", import.meta.url)`.
 * @param name The name of the exported function.
 * @param options A name for its workers, a timeout, a signal, memory limits.
 * @returns A reference to give to `run`.
 * @throws {TypeError} When `module` is not an absolute URL, `name` not a
 * non-empty string, or an option has the wrong type.
 * @throws {RangeError} When a number option is negative.
 * @example
 * <!-- test: module ./tasks.ts collatz.ts -->
 * ```ts ignore
 * import { Queue, run, task } from "@workq/workq";
 * type Tasks = typeof import("./tasks.ts");
 * const collatz = task<Tasks, "collatz">(new URL("./tasks.ts", import.meta.url), "collatz");
 * const inQ = new Queue<number>();
 * const outQ = new Queue<number>();
 * const handle = run(collatz, inQ, outQ);
 * await inQ.put(27);
 * await inQ.end();
 * await handle.result;
 * console.log((await outQ.get()).data); // 111
 * ```
 */
export function task<
  M extends Record<string, unknown> = Record<string, TaskFunction>,
  K extends keyof M & string = keyof M & string,
>(
  module: URL | string,
  name: K,
  options?: TaskOptions,
): TaskRef<M[K] extends TaskFunction ? M[K] : never>;
/**
 * Gives a function task options.
 *
 * @param fn The function, sent as source.
 * @param options A name for its workers, a timeout, a signal, memory limits.
 * @returns A reference to give to `run`.
 * @throws {TypeError} When an option has the wrong type.
 * @throws {RangeError} When a number option is negative.
 * @example
 * ```ts
 * import { run, task } from "@workq/workq";
 * const slow = task(() => new Promise(() => {}), { timeout: 50 });
 * await run(slow).result.catch((e) => console.log(e.reason)); // "timeout"
 * ```
 */
export function task<F extends TaskFunction>(
  fn: F,
  options?: TaskOptions,
): TaskRef<F>;
export function task(
  module: URL | string | TaskFunction,
  name?: string | TaskOptions,
  options?: TaskOptions,
): TaskRef {
  if (typeof module === "function") {
    return {
      fn: module,
      options: checkOptions("name a task", name as TaskOptions | undefined),
    };
  }
  let href: string;
  try {
    href = new URL(module).href;
  } catch {
    throw new TypeError(
      `Cannot name a task: module must be an absolute URL such as new URL("./tasks.ts", import.meta.url), received ${
        v.show(module)
      }`,
    );
  }
  if (typeof name !== "string" || name === "") {
    throw new TypeError(
      `Cannot name a task: name must be a non-empty string, received ${
        v.show(name)
      }`,
    );
  }
  // Where task() was called: what a module that fails to load points at.
  return remember({
    module: href,
    export: name,
    options: checkOptions("name a task", options),
  });
}

/** A task as it travels to the worker. */
export type TaskSpec =
  | { kind: "module"; module: string; export: string; site?: string }
  | { kind: "source"; source: string; name: string };

function fromFunction(fn: TaskFunction): TaskSpec {
  const source = Function.prototype.toString.call(fn);
  if (source.endsWith("{ [native code] }")) {
    throw new TypeError(
      `Cannot run task: ${
        fn.name || "this function"
      } is native; give a function of your own`,
    );
  }
  return { kind: "source", source, name: fn.name || "task" };
}

/** Turns what `run` was given into what the worker can load, and its options. */
export function toSpec(
  given: unknown,
): { spec: TaskSpec; options: TaskOptions } {
  if (typeof given === "function") {
    return { spec: fromFunction(given as TaskFunction), options: {} };
  }
  const ref = given as TaskRef | null;
  if (ref && typeof ref === "object" && typeof ref.options === "object") {
    if (typeof ref.fn === "function") {
      return { spec: fromFunction(ref.fn), options: ref.options };
    }
    if (typeof ref.module === "string" && typeof ref.export === "string") {
      return {
        spec: {
          kind: "module",
          module: ref.module,
          export: ref.export,
          site: siteOf(ref),
        },
        options: ref.options,
      };
    }
  }
  throw new TypeError(
    `Cannot run task: expected a function or task(url, name), received ${
      v.show(given)
    }`,
  );
}

/**
 * The options that shape the worker itself rather than one call
 * (`deno.permissions`, `resourceLimits`): a shape that runs the user's task
 * inside its own driver task gives these to the driver, so that a narrowed
 * or limited task is never run on a worker that is neither.
 */
export function workerOptions(
  options: TaskOptions,
): Pick<TaskOptions, "deno" | "resourceLimits"> {
  const out: Pick<TaskOptions, "deno" | "resourceLimits"> = {};
  if (options.deno !== undefined) out.deno = options.deno;
  if (options.resourceLimits !== undefined) {
    out.resourceLimits = options.resourceLimits;
  }
  return out;
}

/** The name a task's workers are called by. */
export function specName(spec: TaskSpec, options: TaskOptions): string {
  return options.name || (spec.kind === "module" ? spec.export : spec.name);
}

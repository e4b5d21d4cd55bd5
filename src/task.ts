/**
 * How a task is named: an export of a module (the form for real code), or a
 * self-contained function sent as source (a convenience).
 * @module
 */

/** Any function a worker can run: what a task's signature is checked against. */
// deno-lint-ignore no-explicit-any
export type TaskFunction = (...args: any[]) => unknown;

/**
 * A task given as the export of a module. The type parameter carries the
 * export's signature, so that `run` checks arguments and result.
 */
export interface TaskRef<F extends TaskFunction = TaskFunction> {
  /** The module's absolute URL. */
  readonly module: string;
  /** The name of the exported function. */
  readonly export: string;
  /** @internal Carries `F` for type checking only; never set. */
  readonly signature?: F;
}

/** What `run` accepts as a task. */
export type Task<F extends TaskFunction = TaskFunction> = F | TaskRef<F>;

/**
 * Names a task by its module and export — the form for real code: the
 * module is imported in the worker, so its imports and module-level state
 * work. With `typeof import(...)` as the type argument, `run` checks the
 * arguments and the result against the export's signature.
 *
 * @param module The module's absolute URL, e.g. `new URL("./tasks.ts", import.meta.url)`.
 * @param name The name of the exported function.
 * @returns A reference to give to `run`.
 * @throws {TypeError} When `module` is not an absolute URL or `name` not a non-empty string.
 * @example
 * ```ts ignore
 * import { run, task } from "@workq/workq";
 * type Tasks = typeof import("./tasks.ts");
 * const collatz = task<Tasks, "collatz">(new URL("./tasks.ts", import.meta.url), "collatz");
 * const handle = run(collatz, inQ, outQ);
 * ```
 */
export function task<
  M extends Record<string, unknown> = Record<string, TaskFunction>,
  K extends keyof M & string = keyof M & string,
>(
  module: URL | string,
  name: K,
): TaskRef<M[K] extends TaskFunction ? M[K] : never> {
  let href: string;
  try {
    href = new URL(module).href;
  } catch {
    throw new TypeError(
      `Cannot name a task: module must be an absolute URL such as new URL("./tasks.ts", import.meta.url), received ${
        String(module)
      }`,
    );
  }
  if (typeof name !== "string" || name === "") {
    throw new TypeError(
      `Cannot name a task: name must be a non-empty string, received ${
        String(name)
      }`,
    );
  }
  return { module: href, export: name };
}

/** A task as it travels to the worker. */
export type TaskSpec =
  | { kind: "module"; module: string; export: string }
  | { kind: "source"; source: string; name: string };

/** Turns what `run` was given into what the worker can load. */
export function toSpec(given: unknown): TaskSpec {
  if (typeof given === "function") {
    const source = Function.prototype.toString.call(given);
    if (source.endsWith("{ [native code] }")) {
      throw new TypeError(
        `Cannot run task: ${
          given.name || "this function"
        } is native; give a function of your own`,
      );
    }
    return { kind: "source", source, name: given.name || "task" };
  }
  if (
    given && typeof given === "object" &&
    typeof (given as TaskRef).module === "string"
  ) {
    const ref = given as TaskRef;
    return { kind: "module", module: ref.module, export: ref.export };
  }
  throw new TypeError(
    `Cannot run task: expected a function or task(url, name), received ${
      given === null ? "null" : typeof given
    }`,
  );
}

/** The name a task's workers are called by. */
export function specName(spec: TaskSpec): string {
  return spec.kind === "module" ? spec.export : spec.name;
}

/**
 * Loading a task inside a worker: a module export, or a function's source
 * evaluated with workq's exports in scope.
 * @module
 */
import type { TaskFunction, TaskSpec } from "../task.ts";

const HINT =
  "A function task runs from its source alone: it sees its parameters, globals and workq's exports, " +
  "not the names of the module that wrote it. Export the function and run it with task(url, name).";

/** Loads the function a task names. */
export async function load(spec: TaskSpec): Promise<TaskFunction> {
  if (spec.kind === "module") {
    const mod = await import(spec.module);
    const fn = mod[spec.export];
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot run task: module ${spec.module} has no exported function "${spec.export}"`,
      );
    }
    return fn;
  }
  // Only a function task needs workq's exports as its scope: module tasks
  // import what they use, and their workers load no more than that.
  const workq = await import("../exports.ts");
  const names = Object.keys(workq);
  let fn: unknown;
  try {
    fn = new Function(...names, `"use strict";\nreturn (${spec.source});`)(
      ...names.map((n) => (workq as never)[n]),
    );
  } catch (error) {
    throw new SyntaxError(
      `Cannot run task "${spec.name}": its source is not a function expression (${
        (error as Error).message
      }). ` +
        "Write it as an arrow function or function expression, or use task(url, name).",
    );
  }
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot run task "${spec.name}": its source is not a function`,
    );
  }
  return fn as TaskFunction;
}

/** Adds a hint to an error a function task's source caused by touching an outside name. */
export function explain(error: unknown, spec: TaskSpec): unknown {
  if (
    spec.kind === "source" && error instanceof ReferenceError &&
    !error.message.includes(HINT)
  ) {
    error.message += `. ${HINT}`;
  }
  return error;
}

/**
 * Loading a task inside a worker: a module export, or a function's source
 * evaluated with workq's exports in scope.
 * @module
 */
import { deniedFlag } from "../runtime/denied.ts";
import { fetchCause, isFetchFailure } from "../runtime/fetch_cause.ts";
import type { TaskFunction, TaskSpec } from "../task.ts";
import { OWN, ownTask } from "./own.ts";

const HINT =
  "A function task runs from its source alone: it sees its parameters, globals and workq's exports, " +
  "not the names of the module that wrote it. Export the function and run it with task(url, name).";

/** Loads the function a task names. */
export async function load(spec: TaskSpec): Promise<TaskFunction> {
  if (spec.kind === "module") {
    if (spec.module === OWN) return ownTask(spec.export);
    let mod;
    try {
      mod = await import(spec.module);
    } catch (error) {
      if (!isFetchFailure(error)) throw notLoaded(error, spec);
      throw new Error(
        `Cannot run task "${spec.export}": its module ${spec.module} could not be loaded: ${await fetchCause(
          spec.module,
        )}${calledAt(spec)}`,
        { cause: error },
      );
    }
    const fn = mod[spec.export];
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot run task: module ${spec.module} has no exported function "${spec.export}"${
          calledAt(spec)
        }`,
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
    // A page whose Content Security Policy lacks 'unsafe-eval' (and its
    // workers, which inherit or carry that policy) refuses new Function.
    if ((error as Error)?.name === "EvalError") {
      throw new EvalError(
        `Cannot run task "${spec.name}": the Content Security Policy forbids eval ('unsafe-eval'), which a function task needs to run from its source (${
          (error as Error).message.trim().replace(/\.$/, "")
        }). Export the function from a module and run it with task(url, name).`,
      );
    }
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

type ModuleSpec = Extract<TaskSpec, { kind: "module" }>;

function calledAt(spec: ModuleSpec): string {
  return spec.site ? ` (named by task() at ${spec.site})` : "";
}

// The runtime's own error names workq's loader as the importer (Node, Bun)
// or no task at all (Deno): a module that is missing or that Deno may not
// read is named by its task() call instead. An error of the module's own
// (it threw, or one of its imports is missing) is the user's, and stays.
function notLoaded(error: unknown, spec: ModuleSpec): unknown {
  const message = String((error as Error)?.message ?? error);
  const task = `Cannot run task "${spec.export}"`;
  const url = spec.module;
  const path = url.startsWith("file:")
    ? decodeURIComponent(new URL(url).pathname)
    : url;
  // Node and Bun quote the path with ', Deno the URL with ".
  const missing = [`'${path}'`, `'${url}'`, `"${url}"`].some((quoted) =>
    message.includes(quoted)
  );
  if (missing && /not found|cannot find/i.test(message)) {
    const wrapped = new Error(
      `${task}: its module ${url} does not exist${calledAt(spec)}`,
      { cause: error },
    );
    (wrapped as Error & { code?: unknown }).code =
      (error as { code?: unknown })?.code ?? "ERR_MODULE_NOT_FOUND";
    return wrapped;
  }
  const denied = deniedFlag(error);
  if (denied) {
    return new Error(
      `${task}: Deno may not load its module ${url} (${denied.reason}): run again with ${denied.flag}${
        calledAt(spec)
      }`,
      { cause: error },
    );
  }
  return error;
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

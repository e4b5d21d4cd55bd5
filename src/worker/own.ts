/**
 * The tasks a bundled worker entry (`main.ts`, the `@workq/workq/worker`
 * export) holds itself: the shapes' and the pool's drivers. Bundlers drop a
 * worker entry's exports (Vite does), so the entry registers them here and a
 * task naming {@linkcode OWN} as its module is found here, not imported.
 * @module
 */
import type { TaskFunction } from "../task.ts";

/** The module a driver's task names when workers start from a bundled entry. */
export const OWN = "workq:worker";

const tasks = new Map<string, TaskFunction>();

/** Registers the worker entry's own tasks, by name. */
export function provide(named: Record<string, TaskFunction>): void {
  for (const [name, fn] of Object.entries(named)) tasks.set(name, fn);
}

/** One of the worker entry's own tasks; throws when this worker has none. */
export function ownTask(name: string): TaskFunction {
  const fn = tasks.get(name);
  if (fn) return fn;
  throw new Error(
    `Cannot run workq's task "${name}": this worker did not start from workq's worker entry (the @workq/workq/worker export); the URL given to setWorkerUrl must be the bundled copy of that entry`,
  );
}

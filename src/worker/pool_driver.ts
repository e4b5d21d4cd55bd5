/**
 * The worker side of `Pool`: a warm worker that runs one task after another
 * from its own inbox, and the current task's cancellation signal.
 * @module
 */
import { dataToError, type ErrorData, errorToData } from "../errors.ts";
import { iterMsg } from "../queue/iter.ts";
import type { Queue } from "../queue/queue.ts";
import type { TaskFunction, TaskSpec } from "../task.ts";
import { takeTransfer } from "../transfer.ts";
import { explain, load } from "./load.ts";

/**
 * The pool to a worker: a task to run (`[id, spec, args]`), or the cancel
 * of the task with that id (`[id, "cancel", reason as data]`).
 */
export type PoolJob =
  | [id: number, spec: TaskSpec, args: unknown[]]
  | [id: number, cancel: "cancel", reason: ErrorData | { value: unknown }];

/**
 * A worker to the pool: `[-1, true, worker]` once it is up, then
 * `[id, true, value]` or `[id, false, error as data]` for each task.
 */
export type PoolOutcome = [id: number, ok: boolean, value: unknown];

// One task at a time runs in a pool worker, so the signal of the one
// running is the module's to hold.
let current: AbortSignal | undefined;

/**
 * The cancellation signal of the pool task running in this worker: it
 * aborts when the caller's `signal` does or the task's `timeout` passes. A
 * task that returns soon after (or throws `signal.reason`) keeps its worker
 * warm for the next task; one that ignores it past the pool's
 * `cancelGrace` has its worker stopped and replaced.
 *
 * @returns The running task's signal.
 * @throws {Error} When no pool task is running in this thread (outside a
 * pool worker, or from a second copy of workq loaded from another path).
 * @example
 * ```ts
 * import { Pool, taskSignal } from "@workq/workq";
 * const pool = new Pool({ maxWorkers: 1 });
 * const stop = new AbortController();
 * const waiting = pool.runWith(async () => {
 *   const signal = taskSignal();
 *   await new Promise((resolve) => signal.addEventListener("abort", resolve));
 *   return "stopped";
 * }, [], { signal: stop.signal });
 * stop.abort(new Error("not needed"));
 * console.log(await waiting.catch((e) => e.message)); // "not needed"
 * await pool.close();
 * ```
 */
export function taskSignal(): AbortSignal {
  if (!current) {
    throw new Error(
      "Cannot get taskSignal(): no pool task is running in this thread (call it from a task run by a Pool, with the same copy of workq the pool uses)",
    );
  }
  return current;
}

/**
 * A pool worker: says it is up on `outbox`, then runs each task read from
 * `inbox` (the pool gives it one at a time) and puts its outcome on
 * `outbox`, while still reading `inbox` for a cancel of the running task.
 * Ends when `inbox` ends, once the running task is over.
 */
export async function poolWorker(
  inbox: Queue<PoolJob>,
  outbox: Queue<PoolOutcome>,
  worker: number,
  up?: Int32Array,
): Promise<number> {
  const loaded = new Map<string, Promise<TaskFunction>>();
  const fnOf = (spec: TaskSpec) => {
    const key = spec.kind === "module"
      ? `${spec.module}#${spec.export}`
      : spec.source;
    let fn = loaded.get(key);
    if (!fn) {
      fn = load(spec);
      loaded.set(key, fn);
      // A module that failed to load may load later (it was being written).
      fn.catch(() => loaded.delete(key));
    }
    return fn;
  };
  let running: { id: number; controller: AbortController } | undefined;
  let last: Promise<void> = Promise.resolve();
  let ran = 0;
  if (up) Atomics.store(up, 0, 1); // no failed start (src/shapes/workers.ts)
  await outbox.put([-1, true, worker]);
  for await (const msg of iterMsg(inbox)) {
    const [id, what, detail] = msg.data;
    if (what === "cancel") {
      if (running?.id === id) running.controller.abort(dataToError(detail));
      continue;
    }
    const spec = what;
    const args = detail;
    const controller = new AbortController();
    running = { id, controller };
    ran++;
    // Not awaited here: the loop goes on reading, for a cancel of this task.
    last = (async () => {
      current = controller.signal;
      let outcome: PoolOutcome;
      let transfer: Transferable[] = [];
      try {
        const value = await (await fnOf(spec))(...args);
        transfer = takeTransfer(value);
        outcome = [id, true, value];
      } catch (error) {
        outcome = [id, false, errorToData(explain(error, spec))];
      }
      current = undefined;
      running = undefined;
      try {
        await outbox.put(outcome, { transfer });
      } catch (error) {
        await outbox.put([id, false, errorToData(error)]);
      }
    })();
  }
  await last;
  return ran;
}

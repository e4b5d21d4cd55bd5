/**
 * The AbortSignal of the pool task running in this thread: set by the pool's
 * worker (src/worker/pool_driver.ts), read by the task through the public
 * `taskSignal()`. It lives apart from the driver so that the public API
 * does not import the worker's loader.
 * @module
 */

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

/** Sets (or clears) the signal of the pool task now running in this thread. */
export function setTaskSignal(signal: AbortSignal | undefined): void {
  current = signal;
}

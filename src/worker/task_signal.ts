/**
 * What a pool task can reach from inside its worker: its AbortSignal and a
 * way to send progress to its caller. Set by the pool's worker
 * (src/worker/pool_driver.ts), read through the public `taskSignal()` and
 * `taskProgress()`. It lives apart from the driver so that the public API
 * does not import the worker's loader.
 * @module
 */

/** The running pool task's side of its worker. */
export interface TaskContext {
  /** Aborts when the task is cancelled. */
  signal: AbortSignal;
  /** Sends a progress value to the caller, after the ones sent before. */
  progress(value: unknown): void;
}

// One task at a time runs in a pool worker (with concurrencyPerWorker above
// 1, one at a time is in its synchronous part), so the context of the one
// running is the module's to hold.
let current: TaskContext | undefined;

function context(what: string): TaskContext {
  if (!current) {
    throw new Error(
      `Cannot ${what}: no pool task is running in this thread (call it from a task run by a Pool, with the same copy of workq the pool uses; with concurrencyPerWorker above 1, before the task's first await)`,
    );
  }
  return current;
}

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
  return context("get taskSignal()").signal;
}

/**
 * Sends `value` from the pool task running in this worker to its caller's
 * `onProgress` (an option of {@linkcode Pool.runWith}). Values arrive in
 * the order sent, all before the task's result; a task whose caller gave
 * no `onProgress` sends them for nothing, and those of a cancelled task are
 * dropped. It does not wait: the value is cloned now and goes with the
 * worker's next message.
 *
 * Named beside {@linkcode taskSignal}: both are the task's side of its
 * run, called from inside it.
 *
 * @param value Anything structured clone copies (as a task's result).
 * @throws {Error} When no pool task is running in this thread. A value
 * that cannot be cloned fails the task with the error naming it.
 * @example
 * ```ts
 * import { Pool, taskProgress } from "@workq/workq";
 * const pool = new Pool({ maxWorkers: 1 });
 * const seen: number[] = [];
 * const total = await pool.runWith((n: number) => {
 *   let sum = 0;
 *   for (let i = 1; i <= n; i++) {
 *     sum += i;
 *     taskProgress(i / n);
 *   }
 *   return sum;
 * }, [4], { onProgress: (done) => seen.push(done as number) });
 * console.log(total, seen); // 10 [0.25, 0.5, 0.75, 1]
 * await pool.close();
 * ```
 */
export function taskProgress(value: unknown): void {
  context("send taskProgress()").progress(value);
}

/** Sets (or clears) the context of the pool task now running in this thread. */
export function setTaskContext(task: TaskContext | undefined): void {
  current = task;
}

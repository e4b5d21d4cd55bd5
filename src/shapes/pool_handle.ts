/**
 * The handle form of a pool task ({@linkcode Pool.submit}): its result, its
 * progress as an async iterator, and a cancel. Built on `runWith`'s own
 * `signal` and `onProgress`, so a handle's task is any other pool task.
 * @module
 */

/**
 * A task given to a pool by {@linkcode Pool.submit}: Python's
 * `concurrent.futures.Future`, with the task's {@linkcode taskProgress}
 * values as an async iterator.
 *
 * The handle is not itself a promise (not `PromiseLike`): `await` and an
 * async function's `return` unwrap any thenable, so a thenable handle could
 * not be returned from an async function or kept in a list of promises
 * without turning into its result. Await `result`.
 *
 * A task that fails while neither `result` is awaited nor `progress` read
 * is an unhandled rejection, as `run()`'s promise is; reading `progress`
 * alone observes the failure (the loop throws it).
 *
 * @typeParam R What the task returns.
 * @example
 * ```ts
 * import { Pool, taskProgress } from "@workq/workq";
 * const pool = new Pool({ maxWorkers: 1 });
 * const job = pool.submit((n: number) => {
 *   for (let i = 1; i <= n; i++) taskProgress(`step ${i}`);
 *   return n;
 * }, [2]);
 * const steps: unknown[] = [];
 * for await (const step of job.progress) steps.push(step);
 * console.log(steps, await job.result); // ["step 1", "step 2"] 2
 * await pool.close();
 * ```
 */
export interface PoolTaskHandle<R> {
  /**
   * The task's result: it rejects as `runWith`'s promise does (the task's
   * error, a `WorkerError`, or the cancel's reason).
   */
  readonly result: Promise<R>;
  /**
   * Every value the task sends with {@linkcode taskProgress}, in order;
   * it ends when the task settles (after the last value), and throws what
   * `result` rejects with if the task failed. Values not yet read wait
   * here (all of them: a task that sends many to a handle nobody reads
   * holds them). One reader: leaving the loop early (`break`) stops the
   * iterator and drops the values after; the task goes on (`cancel()`
   * stops it).
   */
  readonly progress: AsyncIterableIterator<unknown>;
  /**
   * Cancels the task, as an aborted `signal` of `runWith` does: a queued
   * one never starts, a running one sees {@linkcode taskSignal} abort, and
   * `result` rejects with `reason` at once. Nothing once it settled.
   * @param reason What `result` rejects with. @default an `AbortError`
   * `DOMException`, as `AbortController.abort()` gives
   * @example
   * ```ts
   * import { Pool, taskSignal } from "@workq/workq";
   * const pool = new Pool({ maxWorkers: 1 });
   * const job = pool.submit(() =>
   *   new Promise((resolve) =>
   *     taskSignal().addEventListener("abort", () => resolve("stopped"))
   *   ), []);
   * job.cancel(new Error("no longer needed"));
   * console.log(await job.result.catch((e) => e.message)); // no longer needed
   * await pool.close();
   * ```
   */
  cancel(reason?: unknown): void;
}

/** What a handle adds to the options of the run it starts. */
interface HandleOptions {
  signal?: AbortSignal;
  onProgress?: (value: unknown) => void;
}

// The task's progress values, buffered until read; it ends after the last.
class Progress implements AsyncIterableIterator<unknown> {
  readonly #outcome: () => Promise<unknown>;
  #values: unknown[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #settled: { failed: boolean; error?: unknown } | undefined;
  #watched = false;
  #closed = false;

  constructor(outcome: () => Promise<unknown>) {
    this.#outcome = outcome;
  }

  push(value: unknown): void {
    if (this.#closed) return;
    this.#values.push(value);
    this.#notify();
  }

  async next(): Promise<IteratorResult<unknown, undefined>> {
    // Watched only once read: a handle whose progress nobody reads leaves
    // its result's rejection to whoever awaits it (or to no one, reported).
    if (!this.#watched) {
      this.#watched = true;
      this.#outcome().then(
        () => this.#settle({ failed: false }),
        (error) => this.#settle({ failed: true, error }),
      );
    }
    for (;;) {
      if (this.#closed) return { value: undefined, done: true };
      if (this.#head < this.#values.length) {
        const value = this.#values[this.#head];
        this.#values[this.#head++] = undefined;
        // Compacts now and then, so a long stream read as it comes stays small.
        if (this.#head >= 1024 && this.#head * 2 >= this.#values.length) {
          this.#values = this.#values.slice(this.#head);
          this.#head = 0;
        }
        return { value, done: false };
      }
      if (this.#settled) {
        this.#close();
        if (this.#settled.failed) throw this.#settled.error;
        return { value: undefined, done: true };
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  return(): Promise<IteratorResult<unknown, undefined>> {
    this.#close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #settle(settled: { failed: boolean; error?: unknown }): void {
    this.#settled = settled;
    this.#notify();
  }

  #close(): void {
    this.#closed = true;
    this.#values = [];
    this.#head = 0;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * Starts a run with a signal and an onProgress of the handle's own, joined
 * to those given (an invalid one is passed on as given, for the run to
 * name).
 * @param start Starts the run with its options (`runWith`).
 * @param options The caller's options of that run.
 * @returns The handle of the run.
 */
export function startHandle<R, O extends HandleOptions>(
  start: (options: O | undefined) => Promise<R>,
  options: O | undefined,
): PoolTaskHandle<R> {
  if (options !== undefined && (typeof options !== "object" || !options)) {
    start(options); // throws, naming what options is
  }
  const given = options ?? ({} as O);
  const own = new AbortController();
  // Read only by next(), once `result` is set.
  const progress = new Progress(() => result);
  const { signal, onProgress } = given;
  const result = start({
    ...given,
    signal: signal === undefined
      ? own.signal
      : signal instanceof AbortSignal
      ? AbortSignal.any([signal, own.signal])
      : signal,
    onProgress: onProgress === undefined
      ? (value: unknown) => progress.push(value)
      : typeof onProgress === "function"
      ? (value: unknown) => {
        onProgress(value);
        progress.push(value);
      }
      : onProgress,
  });
  return {
    result,
    progress,
    cancel: (reason?: unknown) => own.abort(reason),
  };
}

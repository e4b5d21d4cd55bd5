/**
 * smq's `ProcessQueue`: hand it items, and one worker handles them, started
 * when needed and ending by itself once the queue is drained.
 * @module
 */
import { dataToError, type ErrorData } from "../errors.ts";
import { END } from "../msg.ts";
import { Deque } from "../queue/deque.ts";
import { Queue } from "../queue/queue.ts";
import { run, type WorkerHandle } from "../worker/run.ts";
import { type Death, drivers, WorkerGroup } from "./workers.ts";
import { specName, type Task, task, toSpec, workerOptions } from "../task.ts";
import * as v from "../validate.ts";

/** Options of {@linkcode ProcessQueue}. */
export interface ProcessQueueOptions<T> {
  /** A readable name, used for the worker and in messages. @default "process-queue" */
  name?: string;
  /** Items handed to the worker at once. @default 64 */
  batchSize?: number;
  /**
   * Called with an item whose handler threw, and the error. By default the
   * error is printed; the worker goes on with the next item.
   */
  onError?: (error: unknown, item: T) => void;
}

// Workers that die in a row (after they were up, e.g. on an item that kills
// them) before the queue stops starting new ones.
const MAX_DEATHS = 3;

/**
 * A queue with its own worker — smq's `ProcessQueue`. `start(items)` appends
 * items and starts ONE worker if none is alive; the worker handles every
 * item with the handler, then ends by itself when the queue is empty; a
 * later `start` starts a new one. The decision that the queue is empty is
 * made on this thread, together with `start`, so a batch is never stranded
 * by a worker that was just ending. A worker that dies gives back the items
 * of its batch it had not finished: they are handled by the next worker
 * (at least once); an item it had finished is never run again. Workers
 * that cannot start are retried a few times with a growing delay; then,
 * like workers that keep dying on the same items, `onIdle()` rejects with
 * an error naming the cause, and the items stay queued.
 *
 * @typeParam T The items' type.
 * @example
 * ```ts
 * import { ProcessQueue } from "@workq/workq";
 * const pq = new ProcessQueue((item: { n: number }) => console.log(item.n * 2));
 * const [started, size] = pq.start([{ n: 1 }, { n: 2 }]);
 * console.log(started, size); // true 2
 * await pq.onIdle();
 * console.log(pq.done); // true
 * ```
 */
export class ProcessQueue<T = unknown> {
  /** The function that handles each item, in the worker. */
  handler: Task<(item: T) => unknown> | undefined;
  readonly #name: string;
  readonly #batchSize: number;
  readonly #onError: (error: unknown, item: T) => void;
  #pending = new Deque<T>();
  #worker: WorkerHandle<number> | undefined;
  #ending = false;
  #inFlight: T[] = [];
  #idle: [resolve: () => void, reject: (error: unknown) => void][] = [];
  #deaths = 0;
  #finished: Int32Array | undefined;
  #group: WorkerGroup<number> | undefined;
  // Why workers are no longer started for the waiting items (until a begin()).
  #gaveUp: Error | undefined;
  #stopping = false;
  // Failure loops still handing errors to onError; idle waits for them.
  #reporting = new Set<Promise<void>>();

  /**
   * Creates the queue; no worker starts until `start` or `begin`.
   * @param handler The function for each item (a function, or `task(url, name)`).
   * @param options A name, the batch size, an error callback.
   * @throws {TypeError} When an option has the wrong type.
   * @throws {RangeError} When `batchSize` is less than 1.
   */
  constructor(
    handler?: Task<(item: T) => unknown>,
    options?: ProcessQueueOptions<T>,
  ) {
    const what = "create a ProcessQueue";
    const o = v.options(what, "options", options, [
      "name",
      "batchSize",
      "onError",
    ]);
    if (handler !== undefined) toSpec(handler);
    this.handler = handler;
    this.#name = v.string(what, "options.name", o.name, "process-queue");
    this.#batchSize = v.number(what, "options.batchSize", o.batchSize, 64, {
      min: 1,
      integer: true,
    });
    this.#onError = v.callback(what, "options.onError", o.onError) ??
      ((error, item) =>
        console.error(
          `ProcessQueue "${this.#name}": the handler failed on`,
          item,
          error,
        ));
  }

  /** Items waiting to be handed to the worker. */
  get size(): number {
    return this.#pending.length;
  }

  /** Whether no worker is running — the opposite of `isAlive()`. */
  get done(): boolean {
    return !this.isAlive();
  }

  /**
   * Whether a worker is running.
   * @returns `true` while a worker handles the queue.
   * @example
   * ```ts
   * import { ProcessQueue } from "@workq/workq";
   * console.log(new ProcessQueue((x: number) => x).isAlive()); // false
   * ```
   */
  isAlive(): boolean {
    return this.#worker !== undefined;
  }

  /**
   * Appends items and starts a worker if none is running.
   * @param items The items (each crosses to the worker by structured clone).
   * @returns `[started, size]`: whether a new worker was started, and the number of items waiting.
   * @throws {TypeError} When `items` is not an array, or no handler was given.
   * @example
   * ```ts
   * import { ProcessQueue } from "@workq/workq";
   * const pq = new ProcessQueue((name: string) => name.toUpperCase());
   * console.log(pq.start(["dave", "mike"])); // [true, 2]
   * await pq.onIdle();
   * ```
   */
  start(items: T[]): [started: boolean, size: number] {
    const size = this.append(items);
    return [this.begin(), size];
  }

  /**
   * Appends items without starting a worker.
   * @param items The items.
   * @returns The number of items waiting.
   * @throws {TypeError} When `items` is not an array.
   * @example
   * ```ts
   * import { ProcessQueue } from "@workq/workq";
   * const pq = new ProcessQueue((x: number) => x);
   * console.log(pq.append([1, 2, 3])); // 3
   * ```
   */
  append(items: T[]): number {
    if (!Array.isArray(items)) {
      throw new TypeError(
        `Cannot append to ProcessQueue "${this.#name}": items must be an array, received ${
          v.show(items)
        }`,
      );
    }
    for (const item of items) this.#pending.push(item);
    return this.#pending.length;
  }

  /**
   * Starts a worker if there are items and none is running (or the running
   * one has already been told to end).
   * @returns Whether a new worker was started.
   * @throws {TypeError} When no handler was given.
   * @example
   * ```ts
   * import { ProcessQueue } from "@workq/workq";
   * const pq = new ProcessQueue((x: number) => x);
   * pq.append([1]);
   * console.log(pq.begin()); // true
   * await pq.onIdle();
   * ```
   */
  begin(): boolean {
    if (this.#pending.length === 0 || (this.#worker && !this.#ending)) {
      return false;
    }
    if (this.handler === undefined) {
      throw new TypeError(
        `Cannot start ProcessQueue "${this.#name}": it has no handler`,
      );
    }
    // A call from the user starts afresh after a give-up.
    this.#gaveUp = undefined;
    this.#deaths = 0;
    this.#group?.stop();
    this.#group = new WorkerGroup({
      name: `ProcessQueue "${this.#name}"`,
      spawn: (up) => this.#launch(up),
      // Items appended while the worker was ending, or given back by a dead
      // one, get a new worker — unless workers keep dying on them.
      want: () =>
        this.#pending.length > 0 && !this.#stopping && !this.#gaveUp &&
        !this.#worker,
      ended: (worker, death) => this.#ended(worker, death),
      failed: (error) => {
        this.#gaveUp = error as Error;
        void this.#settle();
      },
    });
    this.#group.start(1);
    return true;
  }

  /**
   * Resolves when no worker is running and no item waits.
   * @returns A promise of the queue being idle.
   * @throws {Error} (rejects) When workers failed to start five times in a
   * row, or died on its items three times in a row: no worker runs, the
   * items stay queued (`begin()` tries again); `cause` is the last failure.
   * @example
   * ```ts
   * import { ProcessQueue } from "@workq/workq";
   * const pq = new ProcessQueue((x: number) => x);
   * pq.start([1, 2]);
   * await pq.onIdle();
   * ```
   */
  onIdle(): Promise<void> {
    if (!this.#worker && this.#pending.length === 0) return Promise.resolve();
    if (!this.#worker && this.#gaveUp) return Promise.reject(this.#gaveUp);
    return new Promise((resolve, reject) => this.#idle.push([resolve, reject]));
  }

  /**
   * Stops the worker now; the items it had not finished go back to the
   * front of the queue (a later `start` or `begin` handles them). Calling it
   * with no worker running does nothing.
   * @returns Whether a worker was stopped.
   * @example
   * ```ts
   * import { ProcessQueue } from "@workq/workq";
   * const pq = new ProcessQueue((x: number) => x);
   * console.log(await pq.stop()); // false
   * ```
   */
  async stop(): Promise<boolean> {
    const worker = this.#worker;
    if (!worker) return false;
    this.#stopping = true;
    await worker.terminate();
    this.#stopping = false;
    return true;
  }

  #launch(up: Int32Array | undefined): WorkerHandle<number> {
    const { spec, options } = toSpec(this.handler);
    const asks = new Queue<number>({ name: `${this.#name}:asks` });
    const batches = new Queue<T[]>({ name: `${this.#name}:batches` });
    const failures = new Queue<[T, ErrorData]>({
      name: `${this.#name}:failures`,
    });
    const finished = typeof SharedArrayBuffer === "function"
      ? new Int32Array(new SharedArrayBuffer(4))
      : undefined;
    this.#finished = finished;
    const worker = run(
      task(drivers, "drainWorker", {
        name: this.#name || specName(spec, {}),
        ...workerOptions(options),
      }),
      asks,
      batches,
      failures,
      spec,
      up,
      finished,
    ) as WorkerHandle<number>;
    this.#worker = worker;
    this.#ending = false;
    this.#inFlight = [];
    // Serve the worker's asks: a batch while there are items, else the end.
    void (async () => {
      for (;;) {
        const ask = await asks.get().catch(() => undefined);
        if (!ask || this.#worker !== worker) return;
        this.#inFlight = [];
        if (this.#pending.length === 0) {
          this.#ending = true;
          await batches.end();
          return;
        }
        const batch: T[] = [];
        while (batch.length < this.#batchSize && this.#pending.length > 0) {
          batch.push(this.#pending.shift()!);
        }
        if (finished) Atomics.store(finished, 0, 0);
        this.#inFlight = batch;
        await batches.put(batch);
      }
    })();
    const reporting = (async () => {
      for (;;) {
        const msg = await failures.get();
        if (msg.kind === END) return;
        const [item, error] = msg.data;
        this.#onError(dataToError(error), item);
      }
    })();
    this.#reporting.add(reporting);
    void reporting.finally(() => this.#reporting.delete(reporting));
    const end = () => void failures.end();
    worker.result.then(end, end);
    return worker;
  }

  // Whether a new worker starts is the group's decision, made after this.
  #ended(worker: WorkerHandle<number>, death: Death | undefined): void {
    if (this.#worker !== worker) return;
    // The items of the batch the worker had not finished come back to the
    // front; those it finished (their results delivered) never run again.
    if (death) {
      const done = this.#finished ? Atomics.load(this.#finished, 0) : 0;
      for (let i = this.#inFlight.length - 1; i >= done; i--) {
        this.#pending.unshift(this.#inFlight[i]);
      }
    }
    this.#deaths = death?.up ? this.#deaths + 1 : 0;
    this.#inFlight = [];
    this.#worker = undefined;
    this.#ending = false;
    if (
      death && this.#deaths >= MAX_DEATHS && this.#pending.length > 0 &&
      !this.#stopping
    ) {
      this.#gaveUp = new Error(
        `ProcessQueue "${this.#name}": ${this.#deaths} workers in a row died on its items; the last: ${
          (death.error as Error).message ?? death.error
        }`,
        { cause: death.error },
      );
    }
    void this.#settle();
  }

  // Idle means every failure has been handed to onError, too.
  async #settle(): Promise<void> {
    await Promise.allSettled([...this.#reporting]);
    if (this.#worker || this.#group?.starting) return;
    const waiters = this.#idle.splice(0);
    const error = this.#pending.length > 0 ? this.#gaveUp : undefined;
    for (const [resolve, reject] of waiters) {
      if (error) reject(error);
      else resolve();
    }
  }
}

/**
 * Warm workers for one-off tasks: piscina's, workerpool's and Python's
 * `concurrent.futures` shape, with priorities and cooperative cancellation.
 * @module
 */
import { dataToError, errorToData, WorkerError } from "../errors.ts";
import { iterMsg } from "../queue/iter.ts";
import { Queue } from "../queue/queue.ts";
import { onInterrupt } from "./interrupt.ts";
import { type PoolTaskHandle, startHandle } from "./pool_handle.ts";
import { WorkerGroup } from "./workers.ts";
import { run, type WorkerHandle } from "../worker/run.ts";
import { runtime } from "../runtime/mod.ts";
import {
  type Task,
  task,
  type TaskFunction,
  type TaskSpec,
  toSpec,
  workerOptions,
} from "../task.ts";
import { checkTransferList, takeTransfer } from "../transfer.ts";
import * as v from "../validate.ts";
import { cloneError, findUncloneable } from "../wire.ts";
import type { PoolJob, PoolOutcome } from "../worker/protocol.ts";

// The emitted JavaScript keeps the layout and swaps the extension.
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const driver = new URL(`../worker/pool_driver${ext}`, import.meta.url);

/** Options of a {@linkcode Pool}. */
export interface PoolOptions<F extends TaskFunction = TaskFunction> {
  /** Workers kept even when idle (they keep the process alive until `close()`). @default 0 */
  minWorkers?: number;
  /** Workers at most. @default NUM_CPUS */
  maxWorkers?: number;
  /** Milliseconds an idle worker above `minWorkers` waits before it ends. @default 1000 */
  idleTimeout?: number;
  /** A worker is replaced by a fresh one after this many tasks. @default 0 (never) */
  maxTasksPerWorker?: number;
  /**
   * Milliseconds a cancelled or timed-out task may go on running before
   * its worker is stopped and replaced. @default 1000
   */
  cancelGrace?: number;
  /** The task {@linkcode Pool.exec} runs. */
  task?: Task<F>;
  /** The workers' name, before their number. @default "pool" */
  name?: string;
}

/** Options of one task run by {@linkcode Pool.runWith} or {@linkcode Pool.exec}. */
export interface PoolRunOptions {
  /**
   * Cancels the task: a queued one never starts, a running one sees its
   * {@linkcode taskSignal} abort; the promise rejects with the signal's
   * reason at once.
   */
  signal?: AbortSignal;
  /** Higher runs first; equal priorities run in the order given. @default 0 */
  priority?: number;
  /**
   * Milliseconds the task may run once started; then it is cancelled as by
   * `signal` and rejects with a `WorkerError` whose reason is `"timeout"`.
   */
  timeout?: number;
  /** Buffers among the arguments to move rather than copy. */
  transfer?: Transferable[];
  /**
   * Runs again, up to this many times, a task that threw (after its
   * `backoff`, while `retryIf` agrees). A task cancelled, timed out or
   * whose worker died is not retried (a death is not the task's error).
   * When more than one attempt ran, the task rejects with an
   * `AggregateError` whose `errors` are every attempt's error in order and
   * whose `cause` is the last; after one attempt, with that attempt's
   * error as it is. A retry keeps the task's place in the queue (its
   * priority, and its order among equal ones). Arguments moved by
   * `transfer` are gone after the first attempt, so the two do not go
   * together.
   * @default 0
   * @example
   * ```ts
   * import { Pool } from "@workq/workq";
   * const pool = new Pool({ maxWorkers: 1 });
   * const error = await pool.runWith(() => {
   *   throw new Error("flaky");
   * }, [], { retries: 2, backoff: { delay: 10 } }).catch((e) => e);
   * console.log(error.errors.length, pool.stats().retried); // 3 2
   * await pool.close();
   * ```
   */
  retries?: number;
  /**
   * Whether a failed attempt is retried: called with its error and the
   * attempt's number (1 for the first). Not called once `retries` are
   * spent. If it throws, the task rejects with what it threw.
   * @default every error is retried
   * @example
   * ```ts
   * import { Pool } from "@workq/workq";
   * const pool = new Pool({ maxWorkers: 1 });
   * const error = await pool.runWith(() => {
   *   throw new TypeError("a bug, not a hiccup");
   * }, [], {
   *   retries: 5,
   *   retryIf: (e) => !(e instanceof TypeError),
   * }).catch((e) => e);
   * console.log(error.name, pool.stats().retried); // TypeError 0
   * await pool.close();
   * ```
   */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /**
   * The wait before each retry (see {@linkcode PoolBackoff} for the
   * formula).
   * @default { delay: 100, factor: 2, maxDelay: 10000, jitter: 1 }
   * @example
   * ```ts
   * import { Pool } from "@workq/workq";
   * const pool = new Pool({ maxWorkers: 1 });
   * const flaky = () => {
   *   throw new Error("try again");
   * };
   * // Waits 20 ms, then 40 ms (jitter 0: no random part).
   * const attempts = await pool.runWith(flaky, [], {
   *   retries: 2,
   *   backoff: { delay: 20, factor: 2, jitter: 0 },
   * }).catch((e) => e.errors.length);
   * console.log(attempts); // 3
   * await pool.close();
   * ```
   */
  backoff?: PoolBackoff;
  /**
   * Receives each value the task sends with {@linkcode taskProgress}, in
   * order, all before the task's promise settles. If it throws, the task
   * is cancelled with that error (as by `signal`).
   * @example
   * ```ts
   * import { Pool, taskProgress } from "@workq/workq";
   * const pool = new Pool({ maxWorkers: 1 });
   * const steps: string[] = [];
   * await pool.runWith(() => {
   *   taskProgress("parsed");
   *   taskProgress("solved");
   * }, [], { onProgress: (step) => steps.push(step as string) });
   * console.log(steps); // ["parsed", "solved"]
   * await pool.close();
   * ```
   */
  onProgress?: (value: unknown) => void;
}

/**
 * The wait before retry `n` (1 for the first) of a task: exponential, capped,
 * with jitter. `d = min(maxDelay, delay × factor^(n-1))`, then the wait is
 * `d × (1 - jitter × random())`, uniformly drawn in `[d × (1 - jitter), d]`:
 * `jitter` 1 (the default) is "full jitter" (so retries of many failed tasks
 * spread out instead of coming back together), 0.5 "equal jitter", 0 none.
 * @example
 * ```ts
 * import type { PoolBackoff } from "@workq/workq";
 * // Retries after 250-500 ms, 500-1000 ms, then 1-2 s, 1-2 s, ...
 * const backoff: PoolBackoff = { delay: 500, factor: 2, maxDelay: 2000, jitter: 0.5 };
 * console.log(backoff.jitter); // 0.5
 * ```
 */
export interface PoolBackoff {
  /** Milliseconds before the first retry, before jitter. @default 100 */
  delay?: number;
  /** What each later retry's delay is multiplied by (at least 1). @default 2 */
  factor?: number;
  /** Milliseconds a delay grows to at most, before jitter. @default 10000 */
  maxDelay?: number;
  /** The share of the delay drawn at random, from 0 to 1. @default 1 */
  jitter?: number;
}

/**
 * Percentiles in milliseconds over the last 1024 task attempts (a window, so
 * they follow the pool's recent load at a fixed cost); 0 before any. A
 * percentile is the nearest rank: the smallest sample that at least that
 * share of the samples does not exceed.
 * @example
 * ```ts
 * import { Pool } from "@workq/workq";
 * const pool = new Pool({ maxWorkers: 1 });
 * await pool.run(() => 1);
 * const { p50, p99 } = pool.stats().runTime;
 * console.log(p50 > 0 && p50 <= p99); // true
 * await pool.close();
 * ```
 */
export interface PoolPercentiles {
  /** The median. */
  p50: number;
  /** 90% took no longer. */
  p90: number;
  /** 99% took no longer. */
  p99: number;
}

/** Options of {@linkcode Pool.map} and {@linkcode Pool.imap}. */
export interface PoolMapOptions {
  /**
   * Inputs sent to a worker as one task (a message each way per chunk, not
   * per input). @default for an array, its length / (4 × maxWorkers)
   * rounded up (Python's `Pool.map` rule); else 1
   */
  chunkSize?: number;
  /** `imap` only: yield in input order (`true`) or as chunks complete. @default true */
  ordered?: boolean;
  /**
   * Stops the map: its queued chunks never start, running ones see
   * {@linkcode taskSignal} abort, and it rejects with the signal's reason.
   */
  signal?: AbortSignal;
  /** The priority of its chunks among the pool's tasks. @default 0 */
  priority?: number;
}

/** What {@linkcode Pool.stats} counts. */
export interface PoolStats {
  /** Tasks waiting for a worker. */
  queued: number;
  /** Tasks on a worker now (a cancelled one until it returns). */
  running: number;
  /** Workers up and without a task. */
  idleWorkers: number;
  /** Workers alive, starting or ending included. */
  workers: number;
  /** Tasks that returned. */
  completed: number;
  /** Tasks that threw, timed out, or whose worker died. */
  failed: number;
  /** Tasks cancelled by their signal, or by `destroy()`. */
  cancelled: number;
  /** Attempts run again after a task threw (see `retries`). */
  retried: number;
  /**
   * The share of the pool's capacity in use since it was made: the time
   * workers spent on tasks (running ones so far included) over
   * `maxWorkers` × the time since `new Pool()`; from 0 to 1.
   */
  utilization: number;
  /**
   * Of each attempt, from the time its worker was given it to the time its
   * outcome came back (message time included).
   */
  runTime: PoolPercentiles;
  /**
   * Of each attempt, from the time it was given to the pool (or its retry's
   * backoff ended) to the time a worker was given it.
   */
  waitTime: PoolPercentiles;
}

interface Job {
  id: number;
  seq: number;
  priority: number;
  spec: TaskSpec;
  args: unknown[];
  transfer: Transferable[];
  timeout: number;
  // A chunk of pool.map: the task runs once per item of args.
  each: boolean;
  retries: number;
  retryIf: ((error: unknown, attempt: number) => boolean) | undefined;
  backoff: Required<PoolBackoff>;
  onProgress: ((value: unknown) => void) | undefined;
  // Attempts given to a worker so far, and the errors of those that threw.
  attempt: number;
  errors: unknown[];
  // When its wait for a worker began, and when its attempt started.
  readyAt: number;
  startedAt: number;
  settled: boolean;
  worker?: Slot;
  timer?: ReturnType<typeof setTimeout>;
  retryTimer?: ReturnType<typeof setTimeout>;
  offs: (() => void)[];
  settle(ok: boolean, value: unknown): void;
}

interface Slot {
  id: number;
  handle: WorkerHandle<unknown>;
  inbox: Queue<PoolJob>;
  up: boolean;
  leaving: boolean;
  ran: number;
  job?: Job;
  idleTimer?: ReturnType<typeof setTimeout>;
  grace?: ReturnType<typeof setTimeout>;
}

// Higher priority first, then first come: a binary heap.
class Backlog {
  #items: Job[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(job: Job): void {
    const items = this.#items;
    items.push(job);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): Job | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && before(items[l], items[best])) best = l;
        if (r < items.length && before(items[r], items[best])) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best], items[i]];
        i = best;
      }
    }
    return top;
  }

  drain(): Job[] {
    return this.#items.splice(0);
  }
}

// The last WINDOW samples, in a ring: bounded memory and a sort of at most
// WINDOW numbers per stats() call.
const WINDOW = 1024;

class Samples {
  readonly #ring = new Float64Array(WINDOW);
  #count = 0;

  add(ms: number): void {
    this.#ring[this.#count++ % WINDOW] = ms;
  }

  // Nearest rank: the smallest sample that at least p of them do not exceed.
  percentiles(): PoolPercentiles {
    const n = Math.min(this.#count, WINDOW);
    if (n === 0) return { p50: 0, p90: 0, p99: 0 };
    const sorted = this.#ring.slice(0, n).sort();
    const at = (p: number) => sorted[Math.ceil(p * n) - 1];
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
  }
}

function backoffDelay(b: Required<PoolBackoff>, retry: number): number {
  const d = Math.min(b.maxDelay, b.delay * b.factor ** (retry - 1));
  return d * (1 - b.jitter * Math.random());
}

// One attempt's error as it is; several in one AggregateError.
function finalError(errors: unknown[]): unknown {
  const last = errors[errors.length - 1];
  if (errors.length === 1) return last;
  const said = last instanceof Error ? last.message : String(last);
  return new AggregateError(
    errors,
    `The task failed ${errors.length} attempts; the last: ${said}`,
    { cause: last },
  );
}

function before(a: Job, b: Job): boolean {
  return a.priority > b.priority ||
    (a.priority === b.priority && a.seq < b.seq);
}

// A job whose arguments cannot cross to the worker: say which argument (or
// map input), as run() does, not the pool's inbox queue that refused it.
function argumentError(job: Job, error: unknown): unknown {
  const at = job.args.findIndex((arg) => findUncloneable(arg) !== undefined);
  if (at < 0) return error;
  return cloneError(
    `run a pool task with ${job.each ? "input" : "argument"} ${at + 1}`,
    job.args[at],
    error,
  );
}

const POOL_OPTIONS = [
  "minWorkers",
  "maxWorkers",
  "idleTimeout",
  "maxTasksPerWorker",
  "cancelGrace",
  "task",
  "name",
] as const satisfies readonly (keyof PoolOptions)[];

const RUN_OPTIONS = [
  "signal",
  "priority",
  "timeout",
  "transfer",
  "retries",
  "retryIf",
  "backoff",
  "onProgress",
] as const satisfies readonly (keyof PoolRunOptions)[];

const MAP_OPTIONS = [
  "chunkSize",
  "ordered",
  "signal",
  "priority",
] as const satisfies readonly (keyof PoolMapOptions)[];

const BACKOFF_OPTIONS = [
  "delay",
  "factor",
  "maxDelay",
  "jitter",
] as const satisfies readonly (keyof PoolBackoff)[];

/**
 * Warm workers that run one task after another: `await pool.run(task,
 * ...args)` costs a message each way, not a worker's start. Workers start
 * as tasks come (up to `maxWorkers`), end after `idleTimeout` idle (down
 * to `minWorkers`), and are replaced when they die or after
 * `maxTasksPerWorker` tasks.
 *
 * Dispatch: a worker is given one task at a time, only when it is idle, and
 * the task given is the queued one of highest priority (equal priorities in
 * the order they were given). So no backlog waits inside a worker ahead of
 * a task of higher priority that comes later.
 *
 * A task is cancelled by its `signal` (or its `timeout`): a queued one never
 * starts; a running one sees {@linkcode taskSignal} abort and its worker
 * stays warm if it returns; one that ignores it for `cancelGrace` ms has its
 * worker stopped and replaced. Either way its promise rejects at once.
 *
 * A worker that dies mid-task rejects that task with a
 * {@linkcode WorkerError}; it is replaced. Workers that die before they are
 * up are replaced after a growing delay; five in a row reject the queued
 * tasks with an error naming the last cause (a later task tries again).
 *
 * The process exits by itself once the pool is closed, or idle with
 * `minWorkers` 0 (after `idleTimeout`). Ctrl-C (SIGINT) stops every pool not
 * closed: their tasks reject with an error naming the interrupt, their
 * workers are stopped, and SIGINT then ends the process as it would have
 * without a pool; if something else listened to SIGINT when it came (the
 * program's `process.on`, a Feeder), that listener keeps its say.
 *
 * @typeParam F The default task's signature, for {@linkcode Pool.exec}.
 * @example
 * ```ts
 * import { Pool } from "@workq/workq";
 * const pool = new Pool({ maxWorkers: 2 });
 * const squares = await Promise.all(
 *   [1, 2, 3].map((n) => pool.run((x: number) => x * x, n)),
 * );
 * console.log(squares); // [1, 4, 9]
 * await pool.close();
 * ```
 */
export class Pool<F extends TaskFunction = TaskFunction>
  implements AsyncDisposable {
  readonly #name: string;
  readonly #min: number;
  readonly #max: number;
  readonly #idleTimeout: number;
  readonly #maxTasks: number;
  readonly #grace: number;
  readonly #default: Task<F> | undefined;
  readonly #driver: Task;
  readonly #outbox = new Queue<PoolOutcome>({ name: "pool-outcomes" });
  readonly #backlog = new Backlog();
  readonly #slots = new Map<number, Slot>();
  readonly #bySlot = new Map<WorkerHandle<unknown>, Slot>();
  readonly #idle: Slot[] = [];
  readonly #running = new Map<number, Job>();
  // Jobs between a failed attempt and their retry.
  readonly #waiting = new Set<Job>();
  readonly #runTimes = new Samples();
  readonly #waitTimes = new Samples();
  readonly #born = performance.now();
  #busy = 0;
  #retried = 0;
  #group!: WorkerGroup<unknown>;
  #gaveUp = false;
  #queued = 0;
  #seq = 0;
  #workerIds = 0;
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  #closing = false;
  #closed: Promise<void> | undefined;
  #finish: (() => void) | undefined;
  readonly #unlisten: () => void;

  /**
   * Makes a pool; no worker starts before the first task (or `minWorkers`).
   * @param options Sizing, recycling, the cancel grace and a default task.
   * @throws {TypeError} When an option is unknown or of the wrong type, or
   * `task` is not a task.
   * @throws {RangeError} When a number is out of range, or `minWorkers`
   * exceeds `maxWorkers`.
   */
  constructor(options?: PoolOptions<F>) {
    const what = "create a pool";
    const o = v.options(what, "options", options, POOL_OPTIONS);
    this.#min = v.number(what, "options.minWorkers", o.minWorkers, 0, {
      min: 0,
      integer: true,
    });
    this.#max = v.number(
      what,
      "options.maxWorkers",
      o.maxWorkers,
      Math.max(runtime.cpus, this.#min, 1),
      { min: 1, integer: true },
    );
    if (this.#min > this.#max) {
      throw new RangeError(
        `Cannot ${what}: options.minWorkers (${this.#min}) exceeds options.maxWorkers (${this.#max})`,
      );
    }
    this.#idleTimeout = v.number(
      what,
      "options.idleTimeout",
      o.idleTimeout,
      1000,
      { min: 0 },
    );
    this.#maxTasks = v.number(
      what,
      "options.maxTasksPerWorker",
      o.maxTasksPerWorker,
      0,
      { min: 0, integer: true },
    );
    this.#grace = v.number(what, "options.cancelGrace", o.cancelGrace, 1000, {
      min: 0,
    });
    this.#name = v.string(what, "options.name", o.name, "pool");
    if (o.task !== undefined) {
      try {
        toSpec(o.task);
      } catch (error) {
        throw new TypeError(
          `Cannot ${what}: options.task must be a function or task(url, name), received ${
            v.show(o.task)
          }`,
          { cause: error },
        );
      }
    }
    this.#default = o.task;
    this.#driver = task(driver, "poolWorker", { name: this.#name });
    this.#group = this.#newGroup();
    this.#unlisten = onInterrupt(() =>
      this.#destroy(
        new Error(`Pool "${this.#name}" was interrupted (SIGINT)`),
      )
    );
    void this.#read();
    this.#fill();
  }

  /**
   * Runs `task` on a warm worker.
   * @param task A function (sent as source) or `task(url, name)`.
   * @param args Its arguments, cloned when a worker takes the task (mark
   * buffers with `transfer()` to move them).
   * @returns A promise of the task's result; it rejects with the task's
   * error, or a {@linkcode WorkerError} when its worker died.
   * @throws {TypeError} When `task` is not a task, or the pool is closed.
   * @example
   * ```ts
   * import { Pool } from "@workq/workq";
   * const pool = new Pool();
   * console.log(await pool.run((a: number, b: number) => a + b, 2, 3)); // 5
   * await pool.close();
   * ```
   */
  run<G extends TaskFunction>(
    task: Task<G>,
    ...args: Parameters<G>
  ): Promise<Awaited<ReturnType<G>>> {
    return this.#submit("run a pool task", task, args, undefined);
  }

  /**
   * Runs `task` on a warm worker, with a signal, a priority, a timeout or
   * a transfer list.
   * @param task A function (sent as source) or `task(url, name)`.
   * @param args Its arguments, as an array, cloned when a worker takes the task.
   * @param options How the run is cancelled, ordered, bounded and moved.
   * @returns A promise of the task's result; it rejects with the task's
   * error, a {@linkcode WorkerError} (its worker died, or `"timeout"`), or
   * the signal's reason when cancelled.
   * @throws {TypeError} When `task` is not a task, `args` not an array, an
   * option unknown or of the wrong type, or the pool is closed.
   * @throws {RangeError} When `timeout` is negative.
   * @example
   * ```ts
   * import { Pool } from "@workq/workq";
   * const pool = new Pool({ maxWorkers: 1 });
   * const urgent = pool.runWith((s: string) => s, ["urgent"], { priority: 10 });
   * console.log(await urgent); // "urgent"
   * await pool.close();
   * ```
   */
  runWith<G extends TaskFunction>(
    task: Task<G>,
    args: Parameters<G>,
    options?: PoolRunOptions,
  ): Promise<Awaited<ReturnType<G>>> {
    return this.#submit("run a pool task", task, args, options);
  }

  /**
   * Runs `task` as {@linkcode Pool.runWith} does, and returns a handle
   * rather than a promise: its `result`, its {@linkcode taskProgress}
   * values as an async iterator (`progress`), and `cancel()`. Python's
   * `executor.submit()`; the handle is not a promise itself (see
   * {@linkcode PoolTaskHandle}).
   * @param task A function (sent as source) or `task(url, name)`.
   * @param args Its arguments, as an array, cloned when a worker takes the task.
   * @param options As for `runWith`; its `signal` and `onProgress` work
   * beside the handle's `cancel()` and `progress`.
   * @returns The task's handle.
   * @throws {TypeError} As `runWith`.
   * @throws {RangeError} As `runWith`.
   * @example
   * ```ts
   * import { Pool, taskProgress } from "@workq/workq";
   * const pool = new Pool({ maxWorkers: 1 });
   * const job = pool.submit((files: string[]) => {
   *   for (const file of files) taskProgress(file);
   *   return files.length;
   * }, [["a.txt", "b.txt"]]);
   * const seen: unknown[] = [];
   * for await (const file of job.progress) seen.push(file);
   * console.log(seen, await job.result); // ["a.txt", "b.txt"] 2
   * await pool.close();
   * ```
   */
  submit<G extends TaskFunction>(
    task: Task<G>,
    args: Parameters<G>,
    options?: PoolRunOptions,
  ): PoolTaskHandle<Awaited<ReturnType<G>>> {
    return startHandle((o) => this.runWith(task, args, o), options);
  }

  /**
   * Runs the pool's default task (its `task` option): `runWith` without
   * the task.
   * @param args Its arguments, as an array.
   * @param options As for {@linkcode Pool.runWith}.
   * @returns A promise of the task's result.
   * @throws {TypeError} When the pool has no default task, or as `runWith`.
   * @example
   * ```ts
   * import { Pool } from "@workq/workq";
   * const pool = new Pool({ task: (n: number) => n * 2 });
   * console.log(await pool.exec([21])); // 42
   * await pool.close();
   * ```
   */
  exec(
    args: Parameters<F>,
    options?: PoolRunOptions,
  ): Promise<Awaited<ReturnType<F>>> {
    const what = "run the pool's default task";
    if (this.#default === undefined) {
      throw new TypeError(
        `Cannot ${what}: the pool was made without options.task; give one, or use run(task, ...args)`,
      );
    }
    return this.#submit(what, this.#default, args, options);
  }

  /**
   * Runs `task` over `inputs` on the warm workers and resolves with every
   * result in input order: Python's `Pool.map` on a pool that stays up.
   * Inputs are pulled lazily, in chunks, with at most 2 × `maxWorkers`
   * chunks queued or running at once.
   * @param task Called as `task(input)` in a worker, once per input.
   * @param inputs An array, iterable or async iterable.
   * @param options Chunk size, a signal and a priority.
   * @returns The results in input order.
   * @throws {TypeError} When `task` is not a task, `inputs` not iterable,
   * an option unknown or of the wrong type, or the pool is closed.
   * @throws The first failed chunk's error (the rest are cancelled), or the
   * signal's reason (as a rejection).
   * @example
   * ```ts
   * import { Pool } from "@workq/workq";
   * const pool = new Pool({ maxWorkers: 2 });
   * const squares = await pool.map((x: number) => x * x, [1, 2, 3, 4], {
   *   chunkSize: 2,
   * });
   * console.log(squares); // [1, 4, 9, 16]
   * await pool.close();
   * ```
   */
  map<G extends TaskFunction>(
    task: Task<G>,
    inputs: Iterable<Parameters<G>[0]> | AsyncIterable<Parameters<G>[0]>,
    options?: Omit<PoolMapOptions, "ordered">,
  ): Promise<Awaited<ReturnType<G>>[]> {
    const results = this.#imap("map over a pool", task, inputs, {
      ...v.options("map over a pool", "options", options, MAP_OPTIONS),
      ordered: true,
    });
    return (async () => {
      const out: Awaited<ReturnType<G>>[] = [];
      for await (const value of results) out.push(value as never);
      return out;
    })();
  }

  /**
   * Runs `task` over `inputs` on the warm workers and yields the results:
   * in input order, or as chunks complete with `ordered: false`. Inputs
   * are pulled lazily (an endless input runs in bounded memory: at most 2 ×
   * `maxWorkers` chunks queued or running); leaving the loop early cancels
   * the chunks in flight and closes the input iterator.
   * @param task Called as `task(input)` in a worker, once per input.
   * @param inputs An array, iterable or async iterable.
   * @param options Chunk size, order, a signal and a priority.
   * @returns An async iterator of the results.
   * @throws {TypeError} When `task` is not a task, `inputs` not iterable,
   * an option unknown or of the wrong type, or the pool is closed.
   * @throws The first failed chunk's error, or the signal's reason, from
   * the iterator.
   * @example
   * ```ts
   * import { Pool } from "@workq/workq";
   * const pool = new Pool({ maxWorkers: 2 });
   * const seen = new Set<number>();
   * for await (const n of pool.imap((x: number) => x + 1, [1, 2, 3], {
   *   ordered: false,
   * })) seen.add(n);
   * console.log([...seen].sort()); // [2, 3, 4]
   * await pool.close();
   * ```
   */
  imap<G extends TaskFunction>(
    task: Task<G>,
    inputs: Iterable<Parameters<G>[0]> | AsyncIterable<Parameters<G>[0]>,
    options?: PoolMapOptions,
  ): AsyncGenerator<Awaited<ReturnType<G>>, void, undefined> {
    const what = "map over a pool";
    return this.#imap(
      what,
      task,
      inputs,
      v.options(what, "options", options, MAP_OPTIONS),
    ) as AsyncGenerator<Awaited<ReturnType<G>>, void, undefined>;
  }

  // Checks now (a generator's body runs only at its first next()).
  #imap(
    what: string,
    given: Task,
    inputs: Iterable<unknown> | AsyncIterable<unknown>,
    o: PoolMapOptions,
  ): AsyncGenerator<unknown, void, undefined> {
    toSpec(given);
    const iterable = inputs !== null && typeof inputs === "object" &&
      (Symbol.iterator in inputs || Symbol.asyncIterator in inputs);
    if (!iterable) {
      throw new TypeError(
        `Cannot ${what}: inputs must be an array, iterable or async iterable, received ${
          v.show(inputs)
        }`,
      );
    }
    const fallback = Array.isArray(inputs)
      ? Math.max(1, Math.ceil(inputs.length / (4 * this.#max)))
      : 1;
    const chunkSize = v.number(
      what,
      "options.chunkSize",
      o.chunkSize,
      fallback,
      { min: 1, integer: true },
    );
    if (o.ordered !== undefined && typeof o.ordered !== "boolean") {
      throw new TypeError(
        `Cannot ${what}: options.ordered must be a boolean, received ${
          v.show(o.ordered)
        }`,
      );
    }
    const priority = v.number(what, "options.priority", o.priority, 0);
    v.signal(what, "options.signal", o.signal);
    if (this.#closing) {
      throw new TypeError(`Cannot ${what}: pool "${this.#name}" is closed`);
    }
    return this.#chunks(
      what,
      given,
      inputs,
      chunkSize,
      o.ordered ?? true,
      priority,
      o.signal,
    );
  }

  async *#chunks(
    what: string,
    given: Task,
    inputs: Iterable<unknown> | AsyncIterable<unknown>,
    chunkSize: number,
    ordered: boolean,
    priority: number,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<unknown, void, undefined> {
    // Cancels the chunks in flight when the map ends early.
    const stop = new AbortController();
    const abort = () => stop.abort(signal!.reason);
    if (signal?.aborted) abort();
    signal?.addEventListener("abort", abort, { once: true });
    const it = Symbol.asyncIterator in inputs
      ? (inputs as AsyncIterable<unknown>)[Symbol.asyncIterator]()
      : (inputs as Iterable<unknown>)[Symbol.iterator]();
    interface Chunk {
      ready: Promise<Chunk>;
      values?: unknown[];
      error?: unknown;
      failed: boolean;
    }
    const flight: Chunk[] = [];
    let ended = false;
    let finished = false;
    try {
      for (;;) {
        while (!ended && flight.length < 2 * this.#max) {
          const items: unknown[] = [];
          while (items.length < chunkSize) {
            const next = await it.next();
            if (next.done) {
              ended = true;
              break;
            }
            items.push(next.value);
          }
          if (items.length === 0) break;
          const chunk = { failed: false } as Chunk;
          chunk.ready = this.#submit<unknown[]>(what, given, items, {
            signal: stop.signal,
            priority,
          }, true).then(
            (values) => ((chunk.values = values), chunk),
            (error) => ((chunk.failed = true), (chunk.error = error), chunk),
          );
          flight.push(chunk);
        }
        if (flight.length === 0) break;
        const done = ordered ? await flight[0].ready : await Promise.race(
          flight.map((c) => c.ready),
        );
        flight.splice(flight.indexOf(done), 1);
        if (done.failed) throw done.error;
        yield* done.values!;
      }
      finished = true;
    } finally {
      signal?.removeEventListener("abort", abort);
      if (!finished) {
        stop.abort(new Error(`pool.map on pool "${this.#name}" stopped early`));
        if (!ended) await it.return?.();
      }
    }
  }

  /**
   * Counts of the pool now; cheap, so it can be read per request (the
   * percentiles sort at most 1024 numbers each).
   * @returns Queued and running tasks, idle and all workers, tasks
   * completed, failed, cancelled and retried so far, the pool's
   * utilization, and run- and wait-time percentiles.
   * @example
   * ```ts
   * import { Pool } from "@workq/workq";
   * const pool = new Pool();
   * await pool.run(() => 1);
   * const { completed, utilization } = pool.stats();
   * console.log(completed, utilization > 0); // 1 true
   * await pool.close();
   * ```
   */
  stats(): PoolStats {
    const now = performance.now();
    let busy = this.#busy;
    for (const job of this.#running.values()) busy += now - job.startedAt;
    const capacity = this.#max * (now - this.#born);
    return {
      queued: this.#queued,
      running: this.#running.size,
      idleWorkers: this.#idle.length,
      workers: this.#slots.size,
      completed: this.#completed,
      failed: this.#failed,
      cancelled: this.#cancelled,
      retried: this.#retried,
      utilization: capacity > 0 ? Math.min(1, busy / capacity) : 0,
      runTime: this.#runTimes.percentiles(),
      waitTime: this.#waitTimes.percentiles(),
    };
  }

  /**
   * Takes no more tasks, finishes the queued and running ones, then ends
   * the workers.
   * @returns A promise that resolves once every worker is gone.
   * @example
   * ```ts
   * import { Pool } from "@workq/workq";
   * const pool = new Pool();
   * const done = pool.run(() => "done");
   * await pool.close();
   * console.log(await done); // "done"
   * ```
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closing = true;
      this.#closed = new Promise<void>((resolve) => (this.#finish = resolve));
      void this.#closed.then(() => this.#unlisten());
      this.#wind();
    }
    return this.#closed;
  }

  /**
   * Ends the pool now: queued and running tasks reject with an error
   * saying so, and the workers are stopped.
   * @returns A promise that resolves once every worker is gone.
   * @example
   * ```ts
   * import { Pool } from "@workq/workq";
   * const pool = new Pool();
   * const never = pool.run(() => new Promise(() => {}))
   *   .catch((e) => e.message);
   * await pool.destroy();
   * console.log(await never); // Pool "pool" was destroyed
   * ```
   */
  destroy(): Promise<void> {
    return this.#destroy(new Error(`Pool "${this.#name}" was destroyed`));
  }

  #destroy(error: Error): Promise<void> {
    const closed = this.close();
    this.#group.stop();
    for (const job of this.#backlog.drain()) this.#cancel(job, error);
    for (const job of [...this.#running.values()]) this.#cancel(job, error);
    for (const job of [...this.#waiting]) this.#cancel(job, error);
    for (const slot of this.#slots.values()) void slot.handle.terminate();
    return closed;
  }

  /**
   * {@linkcode Pool.close}, for `await using pool = new Pool()` (Deno, Bun
   * and Node 24; Node 22 does not parse `using`, call `close()` there).
   * @returns What `close()` returns.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #submit<R>(
    what: string,
    given: Task,
    args: unknown[],
    options: PoolRunOptions | undefined,
    each = false,
  ): Promise<R> {
    const { spec, options: own } = toSpec(given);
    // A pool's warm workers run many tasks: one task's heap limit or
    // narrowed permissions cannot hold for the worker it lands on, and a
    // narrowed task must never run on a worker that is not.
    const [bound] = Object.keys(workerOptions(own));
    if (bound) {
      throw new TypeError(
        `Cannot ${what}: ${
          bound === "deno" ? "deno.permissions" : bound
        } bound a worker, not one task of a pool; run such a task with run() or map()`,
      );
    }
    v.array(what, "args", args);
    const o = v.options(what, "options", options, RUN_OPTIONS);
    const priority = v.number(what, "options.priority", o.priority, 0);
    const timeout = v.number(
      what,
      "options.timeout",
      o.timeout,
      own.timeout ?? Infinity,
      { min: 0 },
    );
    v.signal(what, "options.signal", o.signal);
    v.array(what, "options.transfer", o.transfer);
    if (o.transfer) checkTransferList(what, "options.transfer", o.transfer);
    const retries = v.number(what, "options.retries", o.retries, 0, {
      min: 0,
      integer: true,
    });
    const retryIf = v.callback<Job["retryIf"]>(
      what,
      "options.retryIf",
      o.retryIf,
    );
    const onProgress = v.callback<Job["onProgress"]>(
      what,
      "options.onProgress",
      o.onProgress,
    );
    const b = v.options(what, "options.backoff", o.backoff, BACKOFF_OPTIONS);
    const backoff = {
      delay: v.number(what, "options.backoff.delay", b.delay, 100, { min: 0 }),
      factor: v.number(what, "options.backoff.factor", b.factor, 2, {
        min: 1,
      }),
      maxDelay: v.number(
        what,
        "options.backoff.maxDelay",
        b.maxDelay,
        10_000,
        { min: 0 },
      ),
      jitter: v.number(what, "options.backoff.jitter", b.jitter, 1, {
        min: 0,
        max: 1,
      }),
    };
    if (this.#closing) {
      throw new TypeError(`Cannot ${what}: pool "${this.#name}" is closed`);
    }
    const transfer = [...(o.transfer ?? [])];
    for (const arg of args) transfer.push(...takeTransfer(arg));
    if (retries > 0 && transfer.length > 0) {
      throw new TypeError(
        `Cannot ${what}: options.retries with moved arguments (transfer): a retry would find them detached; copy them instead`,
      );
    }
    this.#gaveUp = false;
    return new Promise<R>((resolve, reject) => {
      const job: Job = {
        id: ++this.#seq,
        seq: this.#seq,
        priority,
        spec,
        args,
        transfer,
        timeout,
        each,
        retries,
        retryIf,
        backoff,
        onProgress,
        attempt: 0,
        errors: [],
        readyAt: performance.now(),
        startedAt: 0,
        settled: false,
        offs: [],
        settle: (ok, value) => {
          if (job.settled) return;
          job.settled = true;
          clearTimeout(job.timer);
          for (const off of job.offs.splice(0)) off();
          if (ok) resolve(value as R);
          else reject(value);
        },
      };
      for (const signal of [own.signal, o.signal]) {
        if (!signal) continue;
        if (signal.aborted) {
          this.#cancelled++;
          return job.settle(false, signal.reason);
        }
        const abort = () => this.#cancel(job, signal.reason);
        signal.addEventListener("abort", abort, { once: true });
        job.offs.push(() => signal.removeEventListener("abort", abort));
      }
      this.#backlog.push(job);
      this.#queued++;
      this.#pump();
    });
  }

  // One task per idle worker: the rest wait here, in priority order.
  #pump(): void {
    while (this.#idle.length > 0 && this.#queued > 0) {
      const job = this.#backlog.pop()!;
      if (job.settled) continue;
      this.#queued--;
      this.#dispatch(this.#idle.pop()!, job);
    }
    this.#fill();
    this.#wind();
  }

  #dispatch(slot: Slot, job: Job): void {
    clearTimeout(slot.idleTimer);
    slot.job = job;
    job.worker = slot;
    job.startedAt = performance.now();
    this.#waitTimes.add(job.startedAt - job.readyAt);
    if (++job.attempt > 1) this.#retried++;
    this.#running.set(job.id, job);
    if (job.timeout !== Infinity) {
      job.timer = setTimeout(() => {
        this.#cancel(
          job,
          new WorkerError(
            slot.handle.name,
            "timeout",
            `ran longer than its timeout of ${job.timeout} ms`,
          ),
          true,
        );
      }, job.timeout);
    }
    // Nothing reached the worker (its arguments could not be sent): it is
    // free again.
    const fail = (error: unknown) => {
      if (slot.job !== job) return;
      this.#running.delete(job.id);
      slot.job = undefined;
      job.worker = undefined;
      if (!job.settled) this.#failed++;
      job.settle(false, error);
      this.#idleAgain(slot);
    };
    try {
      const sent: PoolJob = job.each
        ? [job.id, job.spec, job.args, true]
        : [job.id, job.spec, job.args];
      slot.inbox.put(sent, { transfer: job.transfer })
        .catch((error) => {
          fail(argumentError(job, error));
          this.#pump();
        });
    } catch (error) {
      fail(argumentError(job, error));
    }
  }

  #cancel(job: Job, reason: unknown, failed = false): void {
    if (job.settled) return;
    if (failed) this.#failed++;
    else this.#cancelled++;
    if (this.#waiting.delete(job)) {
      clearTimeout(job.retryTimer);
      job.settle(false, reason);
      this.#wind();
      return;
    }
    const slot = job.worker;
    if (!slot) {
      this.#queued--;
      job.settle(false, reason);
      this.#wind();
      return;
    }
    job.settle(false, reason);
    void slot.inbox.put([job.id, "cancel", errorToData(reason)]).catch(
      () => {},
    );
    // The slot stays busy until the task returns; past the grace its
    // worker is stopped, and that death frees the slot.
    slot.grace = setTimeout(() => {
      if (slot.job === job) void slot.handle.terminate();
    }, this.#grace);
  }

  async #read(): Promise<void> {
    for await (const msg of iterMsg(this.#outbox)) this.#receive(msg.data);
  }

  #receive([id, ok, value]: PoolOutcome): void {
    if (id === -1) {
      const slot = this.#slots.get(value as number);
      if (!slot) return;
      slot.up = true;
      this.#idleAgain(slot);
      this.#pump();
      return;
    }
    const job = this.#running.get(id);
    if (!job) return;
    if (ok === "progress") return this.#progress(job, value);
    const slot = job.worker!;
    clearTimeout(slot.grace);
    this.#attemptOver(job);
    slot.ran++;
    if (!job.settled) {
      if (ok) {
        this.#completed++;
        job.settle(true, value);
      } else {
        this.#retryOrFail(job, dataToError(value as never, slot.handle.name));
      }
    }
    if (this.#maxTasks > 0 && slot.ran >= this.#maxTasks) this.#retire(slot);
    else this.#idleAgain(slot);
    this.#pump();
  }

  #progress(job: Job, value: unknown): void {
    if (job.settled || !job.onProgress) return;
    try {
      job.onProgress(value);
    } catch (error) {
      this.#cancel(job, error);
    }
  }

  // The attempt on a worker is over (returned, threw, or its worker died).
  #attemptOver(job: Job): void {
    const ran = performance.now() - job.startedAt;
    this.#busy += ran;
    this.#runTimes.add(ran);
    this.#running.delete(job.id);
    clearTimeout(job.timer);
    if (job.worker) job.worker.job = undefined;
    job.worker = undefined;
  }

  // Another attempt after its backoff, while retries are left and retryIf
  // agrees; else the task rejects.
  #retryOrFail(job: Job, error: unknown): void {
    job.errors.push(error);
    let again = job.attempt <= job.retries;
    if (again && job.retryIf) {
      try {
        again = Boolean(job.retryIf(error, job.attempt));
      } catch (thrown) {
        this.#failed++;
        return job.settle(false, thrown);
      }
    }
    if (!again) {
      this.#failed++;
      return job.settle(false, finalError(job.errors));
    }
    this.#waiting.add(job);
    job.retryTimer = setTimeout(() => {
      this.#waiting.delete(job);
      job.retryTimer = undefined;
      if (job.settled) return;
      job.readyAt = performance.now();
      this.#backlog.push(job);
      this.#queued++;
      this.#pump();
    }, backoffDelay(job.backoff, job.attempt));
  }

  #idleAgain(slot: Slot): void {
    if (slot.leaving) return;
    this.#idle.push(slot);
    if (this.#idleTimeout === Infinity) return;
    slot.idleTimer = setTimeout(() => {
      if (this.#idle.includes(slot) && this.#live() > this.#min) {
        this.#retire(slot);
      }
    }, this.#idleTimeout);
  }

  #live(): number {
    let live = 0;
    for (const slot of this.#slots.values()) if (!slot.leaving) live++;
    return live;
  }

  // Ends a worker gently: it finishes what it runs, then returns.
  #retire(slot: Slot): void {
    if (slot.leaving) return;
    slot.leaving = true;
    clearTimeout(slot.idleTimer);
    const at = this.#idle.indexOf(slot);
    if (at >= 0) this.#idle.splice(at, 1);
    void slot.inbox.end().catch(() => {});
  }

  // Starts workers while tasks wait for one or fewer than minWorkers live.
  #fill(): void {
    // A dead worker's replacement is waiting out its backoff: not more now.
    if (this.#group.starting) return;
    const want = this.#wanted();
    const live = this.#live();
    if (live < want) this.#group.start(want - live);
  }

  // After a give-up, minWorkers alone does not start more: it would retry
  // for ever with no task to fail. The next task tries again.
  #wanted(): number {
    const floor = this.#closing || this.#gaveUp ? 0 : this.#min;
    return Math.min(
      this.#max,
      Math.max(floor, this.#running.size + this.#queued),
    );
  }

  // Keeps the pool's workers: replaced when they die (with the group's cap on
  // failed starts and its backoff) while the pool still wants them.
  #newGroup(): WorkerGroup<unknown> {
    const group: WorkerGroup<unknown> = new WorkerGroup<unknown>({
      name: `Pool "${this.#name}"`,
      spawn: (up) => {
        const id = ++this.#workerIds;
        const inbox = new Queue<PoolJob>({
          name: `${this.#name}-inbox-${id}`,
        });
        const handle = run(this.#driver, inbox, this.#outbox, id, up);
        const slot: Slot = {
          id,
          handle,
          inbox,
          up: false,
          leaving: false,
          ran: 0,
        };
        this.#slots.set(id, slot);
        this.#bySlot.set(handle, slot);
        return handle;
      },
      want: () => !this.#closedAndIdle() && this.#live() < this.#wanted(),
      ended: (handle, death) => {
        const slot = this.#bySlot.get(handle);
        this.#bySlot.delete(handle);
        if (slot) this.#ended(slot, death?.error);
      },
      failed: (error) => {
        this.#gaveUp = true;
        // A pool serves for long: a later task tries again from scratch.
        if (group === this.#group) this.#group = this.#newGroup();
        if ([...this.#slots.values()].some((s) => s.up && !s.leaving)) return;
        for (const job of this.#backlog.drain()) {
          if (job.settled) continue;
          this.#queued--;
          this.#failed++;
          job.settle(false, error);
        }
        this.#wind();
      },
    });
    return group;
  }

  #ended(slot: Slot, error: unknown): void {
    this.#slots.delete(slot.id);
    clearTimeout(slot.idleTimer);
    clearTimeout(slot.grace);
    const at = this.#idle.indexOf(slot);
    if (at >= 0) this.#idle.splice(at, 1);
    const job = slot.job;
    if (job) {
      this.#attemptOver(job);
      if (!job.settled) {
        this.#failed++;
        job.settle(
          false,
          error ??
            new WorkerError(
              slot.handle.name,
              "exit",
              "ended before its task finished",
            ),
        );
      }
    }
    // A death is replaced by the group; a worker that returned (idle,
    // recycled) leaves room that the next pump fills as needed.
    if (error === undefined) this.#pump();
    this.#wind();
  }

  #closedAndIdle(): boolean {
    return this.#closing && this.#queued === 0 && this.#running.size === 0 &&
      this.#waiting.size === 0;
  }

  // Once closing and nothing is left to run: end every worker, then the
  // outcome queue, then resolve close().
  #wind(): void {
    if (!this.#closedAndIdle()) return;
    this.#group.stop();
    for (const slot of this.#slots.values()) this.#retire(slot);
    if (this.#slots.size > 0 || !this.#finish) return;
    const finish = this.#finish;
    this.#finish = undefined;
    void this.#outbox.end().catch(() => {}).finally(finish);
  }
}

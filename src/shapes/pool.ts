/**
 * Warm workers for one-off tasks: piscina's, workerpool's and Python's
 * `concurrent.futures` shape, with priorities and cooperative cancellation.
 * @module
 */
import { dataToError, errorToData, WorkerError } from "../errors.ts";
import { onInterrupt } from "./interrupt.ts";
import { type PoolTaskHandle, startHandle } from "./pool_handle.ts";
import { WorkerGroup } from "./workers.ts";
import { run, type WorkerHandle } from "../worker/run.ts";
import { runtime } from "../runtime/mod.ts";
import {
  type Task,
  task,
  type TaskFunction,
  type TaskOptions,
  type TaskSpec,
  toSpec,
  workerOptions,
} from "../task.ts";
import { checkTransferList, takeTransfer, transfer } from "../transfer.ts";
import * as v from "../validate.ts";
import { listCloneError } from "../wire.ts";
import {
  POOL_LAST,
  POOL_UP,
  type PoolBatch,
  type PoolJob,
} from "../worker/protocol.ts";

import { poolDriver as driver } from "../worker/worker_url.ts";

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
  /**
   * Tasks one worker runs at once: an async task holds its place until its
   * promise settles, so several that mostly wait (on I/O, timers) overlap
   * on one thread. With more than 1, {@linkcode taskSignal} and
   * {@linkcode taskProgress} work in a task's synchronous start only (read
   * the signal before the first `await`). @default 1
   */
  concurrencyPerWorker?: number;
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
   * Of each attempt, its run as its worker measured it (for one whose
   * worker died, from the time the worker was given it to the death).
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
  // The spec's number, which a worker learns once; the key of its run-time
  // estimate (a map chunk's apart from the task's); that estimate when the
  // job was given to its worker.
  specId: number;
  estKey: number;
  est: number;
  args: unknown[];
  transfer: Transferable[];
  timeout: number;
  // A chunk of pool.map (the task runs once per item of args): the index of
  // its first input among the map's; undefined for a run.
  first: number | undefined;
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
  grace?: ReturnType<typeof setTimeout>;
  offs: (() => void)[] | undefined;
  settle(ok: boolean, value: unknown): void;
}

interface Slot {
  id: number;
  handle: WorkerHandle<unknown>;
  port: MessagePort;
  unlisten: () => void;
  up: boolean;
  leaving: boolean;
  // Outcomes received, and tasks given.
  ran: number;
  given: number;
  // Its tasks not yet over, in the order given; their estimated work (of
  // those with an estimate) and how many have none.
  jobs: Map<number, Job>;
  ahead: number;
  unknown: number;
  busySince: number;
  // The spec numbers it has learned.
  known: Set<number>;
  // Orders of this turn, not yet sent (flat, see PoolBatch), and what each
  // moves.
  out: PoolBatch;
  moves: (Transferable[] | undefined)[];
  flushing: boolean;
  idleTimer?: ReturnType<typeof setTimeout>;
  // It ended itself and said so last on its channel (see #ended).
  said: boolean;
  // Its end, held until that word comes.
  end?: () => void;
}

// Prefetch (see the class's Dispatch paragraph): a worker that is busy is
// given a task too only when that task's recent runs took under SHORT_MS on
// average, while the work measured ahead of it stays within AHEAD_MS and
// under MAX_AHEAD tasks.
const SHORT_MS = 0.25;
const AHEAD_MS = 1;
const MAX_AHEAD = 1024;

// A worker that ended itself says so last on its channel, but the runtime
// may report the exit before that channel's messages arrive: the pool
// waits for the word (this long at most) before it blames a task.
const LAST_WORD_MS = 2000;

// Higher priority first, then first come: a first-in first-out list per
// priority, so that the common case (one priority) costs no comparisons. A
// job pushed back (a retry, a task of a dead worker) goes back into its
// place by its number.
interface Level {
  priority: number;
  jobs: Job[];
  head: number;
}

class Backlog {
  // By priority, highest first.
  #levels: Level[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(job: Job): void {
    const levels = this.#levels;
    let at = 0;
    while (at < levels.length && levels[at].priority > job.priority) at++;
    let level = levels[at];
    if (level?.priority !== job.priority) {
      level = { priority: job.priority, jobs: [], head: 0 };
      levels.splice(at, 0, level);
    }
    this.#size++;
    const jobs = level.jobs;
    if (jobs.length === level.head || jobs[jobs.length - 1].seq < job.seq) {
      jobs.push(job);
      return;
    }
    let lo = level.head;
    let hi = jobs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (jobs[mid].seq < job.seq) lo = mid + 1;
      else hi = mid;
    }
    jobs.splice(lo, 0, job);
  }

  peek(): Job | undefined {
    const level = this.#levels[0];
    return level?.jobs[level.head];
  }

  pop(): Job | undefined {
    const level = this.#levels[0];
    if (!level) return undefined;
    const job = level.jobs[level.head++];
    this.#size--;
    if (level.head === level.jobs.length) this.#levels.shift();
    else if (level.head >= 1024 && level.head * 2 >= level.jobs.length) {
      // What was taken is let go of, a half at a time.
      level.jobs = level.jobs.slice(level.head);
      level.head = 0;
    }
    return job;
  }

  drain(): Job[] {
    const all = this.#levels.flatMap((l) => l.jobs.slice(l.head));
    this.#levels = [];
    this.#size = 0;
    return all;
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

// A job whose arguments cannot cross to the worker: say which argument (or
// map input), as run() does, not the pool's inbox queue that refused it.
function argumentError(job: Job, error: unknown): unknown {
  const noun = job.first === undefined ? "argument" : "input";
  return listCloneError(
    "run a pool task",
    noun,
    job.args,
    job.first ?? 0,
    error,
  ) ?? error;
}

const NO_TRANSFER: Transferable[] = [];

interface RunSettings {
  priority: number;
  timeout: number;
  retries: number;
  retryIf: Job["retryIf"];
  onProgress: Job["onProgress"];
  backoff: Required<PoolBackoff>;
}

const DEFAULT_RUN: RunSettings = Object.freeze({
  priority: 0,
  timeout: Infinity,
  retries: 0,
  retryIf: undefined,
  onProgress: undefined,
  backoff: Object.freeze({
    delay: 100,
    factor: 2,
    maxDelay: 10_000,
    jitter: 1,
  }),
});

// The options of one run, checked, with their defaults.
function runOptions(
  what: string,
  o: PoolRunOptions,
  own: TaskOptions,
): RunSettings {
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
  return { priority, timeout, retries, retryIf, onProgress, backoff };
}

const POOL_OPTIONS = [
  "minWorkers",
  "maxWorkers",
  "idleTimeout",
  "maxTasksPerWorker",
  "cancelGrace",
  "concurrencyPerWorker",
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
 * Dispatch: the task given is always the queued one of highest priority
 * (equal priorities in the order they were given), to a worker that runs
 * fewer than `concurrencyPerWorker` tasks (1 by default). Beyond that, to
 * save a round trip between short tasks, a busy worker is given more ahead
 * of time only when that task's recent runs took under 250 µs on average
 * (as its workers measured them, per task function, map chunks apart), and
 * only while the work so measured ahead of it stays within 1 ms (and 1024
 * tasks); a task with a `timeout` is never given ahead. So a task of higher
 * priority that comes later waits at most about 1 ms behind prefetched
 * ones, and a backlog of slow tasks stays in the pool. Orders to a worker,
 * and its outcomes, go as one message per turn each way.
 *
 * A task is cancelled by its `signal` (or its `timeout`): a queued one never
 * starts; a running one sees {@linkcode taskSignal} abort and its worker
 * stays warm if it returns; one that ignores it for `cancelGrace` ms has its
 * worker stopped and replaced. Either way its promise rejects at once.
 *
 * A worker that dies mid-task rejects that task with a
 * {@linkcode WorkerError} (the oldest `concurrencyPerWorker` it was given,
 * those it may have been running); those prefetched behind them go back to
 * the queue in their place. It is replaced. Workers that die before they are
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
  readonly #concurrency: number;
  readonly #backlog = new Backlog();
  readonly #slots = new Map<number, Slot>();
  readonly #bySlot = new Map<WorkerHandle<unknown>, Slot>();
  // Workers up and not leaving; those of them without a task.
  readonly #ready: Slot[] = [];
  readonly #idle: Slot[] = [];
  // Spec numbers by key, and run-time estimates (ms) by estimate key.
  readonly #specIds = new Map<string, number>();
  readonly #tasks = new WeakMap<
    object,
    { spec: TaskSpec; own: TaskOptions; specId: number }
  >();
  readonly #est: number[] = [];
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
    this.#concurrency = v.number(
      what,
      "options.concurrencyPerWorker",
      o.concurrencyPerWorker,
      1,
      { min: 1, integer: true },
    );
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
      // A chunk's results at once: no await per input.
      const out: unknown[] = [];
      for await (const values of results) {
        for (const value of values) out.push(value);
      }
      return out as Awaited<ReturnType<G>>[];
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
    const chunks = this.#imap(
      what,
      task,
      inputs,
      v.options(what, "options", options, MAP_OPTIONS),
    );
    return (async function* () {
      for await (const values of chunks) yield* values;
    })() as AsyncGenerator<Awaited<ReturnType<G>>, void, undefined>;
  }

  // Checks now (a generator's body runs only at its first next()); yields
  // each chunk's results.
  #imap(
    what: string,
    given: Task,
    inputs: Iterable<unknown> | AsyncIterable<unknown>,
    o: PoolMapOptions,
  ): AsyncGenerator<unknown[], void, undefined> {
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
  ): AsyncGenerator<unknown[], void, undefined> {
    // Cancels the chunks in flight when the map ends early.
    const stop = new AbortController();
    const abort = () => stop.abort(signal!.reason);
    if (signal?.aborted) abort();
    signal?.addEventListener("abort", abort, { once: true });
    const sync = !(Symbol.asyncIterator in inputs);
    const it = sync
      ? (inputs as Iterable<unknown>)[Symbol.iterator]()
      : (inputs as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    interface Chunk {
      ready: Promise<Chunk>;
      values?: unknown[];
      error?: unknown;
      failed: boolean;
    }
    const flight: Chunk[] = [];
    let ended = false;
    let finished = false;
    let taken = 0;
    try {
      for (;;) {
        while (!ended && flight.length < 2 * this.#max) {
          const items: unknown[] = [];
          while (items.length < chunkSize) {
            // A sync input is read without a turn per input.
            const next = sync
              ? it.next() as IteratorResult<unknown>
              : await it.next();
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
          }, taken).then(
            (values) => ((chunk.values = values), chunk),
            (error) => ((chunk.failed = true), (chunk.error = error), chunk),
          );
          flight.push(chunk);
          taken += items.length;
        }
        if (flight.length === 0) break;
        const done = ordered ? await flight[0].ready : await Promise.race(
          flight.map((c) => c.ready),
        );
        flight.splice(flight.indexOf(done), 1);
        if (done.failed) throw done.error;
        yield done.values!;
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
    for (const slot of this.#slots.values()) {
      if (slot.jobs.size > 0) busy += now - slot.busySince;
    }
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

  // What a task is, once per function or task(): its spec, options and
  // spec number (a worker learns a spec once, by number).
  #taskOf(
    what: string,
    given: Task,
  ): { spec: TaskSpec; own: TaskOptions; specId: number } {
    const known = this.#tasks.get(given as object);
    if (known) return known;
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
    const key = spec.kind === "module"
      ? `${spec.module}#${spec.export}#${spec.site}`
      : `${spec.name}\0${spec.source}`;
    let specId = this.#specIds.get(key);
    if (specId === undefined) {
      specId = this.#specIds.size;
      this.#specIds.set(key, specId);
    }
    const task = { spec, own, specId };
    this.#tasks.set(given as object, task);
    return task;
  }

  #submit<R>(
    what: string,
    given: Task,
    args: unknown[],
    options: PoolRunOptions | undefined,
    first?: number,
  ): Promise<R> {
    const { spec, own, specId } = this.#taskOf(what, given);
    v.array(what, "args", args);
    const o = options === undefined
      ? undefined
      : v.options(what, "options", options, RUN_OPTIONS);
    // A run without options (the common call) takes the defaults as they are.
    const {
      priority,
      timeout,
      retries,
      retryIf,
      onProgress,
      backoff,
    } = o === undefined && own.timeout === undefined
      ? DEFAULT_RUN
      : runOptions(what, o ?? {}, own);
    if (this.#closing) {
      throw new TypeError(`Cannot ${what}: pool "${this.#name}" is closed`);
    }
    let transfer = NO_TRANSFER;
    if (o?.transfer) transfer = [...o.transfer];
    for (const arg of args) {
      const moved = takeTransfer(arg);
      if (moved.length > 0) transfer = [...transfer, ...moved];
    }
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
        specId,
        estKey: 2 * specId + (first === undefined ? 0 : 1),
        est: Infinity,
        args,
        transfer,
        timeout,
        first,
        retries,
        retryIf,
        backoff,
        onProgress,
        attempt: 0,
        errors: [],
        readyAt: performance.now(),
        startedAt: 0,
        settled: false,
        offs: undefined,
        settle: (ok, value) => {
          if (job.settled) return;
          job.settled = true;
          clearTimeout(job.timer);
          if (job.offs) { for (const off of job.offs.splice(0)) off(); }
          if (ok) resolve(value as R);
          else reject(value);
        },
      };
      for (const signal of [own.signal, o?.signal]) {
        if (!signal) continue;
        if (signal.aborted) {
          this.#cancelled++;
          return job.settle(false, signal.reason);
        }
        const abort = () => this.#cancel(job, signal.reason);
        signal.addEventListener("abort", abort, { once: true });
        (job.offs ??= []).push(() =>
          signal.removeEventListener("abort", abort)
        );
      }
      this.#backlog.push(job);
      this.#queued++;
      this.#pump();
    });
  }

  // The queued task of highest priority goes to a worker while one can take
  // it (see the class's Dispatch paragraph); the rest wait here. Workers
  // start for them unless `fill` is false (a death: the group replaces the
  // dead worker after its backoff, never on the same turn).
  #pump(fill = true): void {
    while (this.#queued > 0) {
      const job = this.#backlog.peek();
      if (!job) break;
      if (job.settled) {
        this.#backlog.pop();
        continue;
      }
      const slot = this.#pick(job);
      if (!slot) break;
      this.#backlog.pop();
      this.#queued--;
      this.#dispatch(slot, job);
    }
    if (fill) this.#fill();
    this.#wind();
  }

  // A worker running fewer than concurrencyPerWorker tasks, the least busy
  // first; else one to prefetch a short task on, the least work ahead first.
  #pick(job: Job): Slot | undefined {
    const est = job.timeout === Infinity
      ? this.#est[job.estKey] ?? Infinity
      : Infinity;
    const short = est < SHORT_MS;
    let best: Slot | undefined;
    let bestScore = Infinity;
    for (const slot of this.#ready) {
      if (this.#maxTasks > 0 && slot.given >= this.#maxTasks) continue;
      const n = slot.jobs.size;
      let score: number;
      if (n < this.#concurrency) score = n - this.#concurrency;
      else if (
        short && slot.unknown === 0 && n < MAX_AHEAD &&
        slot.ahead + est <= AHEAD_MS
      ) score = slot.ahead;
      else continue;
      if (score < bestScore) {
        best = slot;
        bestScore = score;
      }
    }
    return best;
  }

  #dispatch(slot: Slot, job: Job): void {
    const now = performance.now();
    if (slot.jobs.size === 0) {
      clearTimeout(slot.idleTimer);
      const at = this.#idle.indexOf(slot);
      if (at >= 0) this.#idle.splice(at, 1);
      slot.busySince = now;
    }
    slot.jobs.set(job.id, job);
    slot.given++;
    job.est = this.#est[job.estKey] ?? Infinity;
    if (job.est === Infinity) slot.unknown++;
    else slot.ahead += job.est;
    job.worker = slot;
    job.startedAt = now;
    this.#waitTimes.add(now - job.readyAt);
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
    if (!slot.known.has(job.specId)) {
      slot.known.add(job.specId);
      this.#order(slot, job.specId, "spec", job.spec, 0);
    }
    this.#order(
      slot,
      job.id,
      job.specId,
      job.args,
      job.first === undefined ? 0 : 1,
      job.transfer,
    );
  }

  // Orders of one turn go to a worker in one message.
  #order(
    slot: Slot,
    id: number,
    what: PoolJob[1],
    detail: unknown,
    each: 0 | 1,
    moves?: Transferable[],
  ): void {
    if (moves && moves.length > 0) slot.moves[slot.out.length >> 2] = moves;
    slot.out.push(id, what, detail, each);
    if (slot.flushing) return;
    slot.flushing = true;
    queueMicrotask(() => this.#flush(slot));
  }

  #flush(slot: Slot): void {
    slot.flushing = false;
    const batch = slot.out;
    const moves = slot.moves;
    if (batch.length === 0) return;
    slot.out = [];
    slot.moves = [];
    const all: Transferable[] = [];
    for (const list of moves) if (list) all.push(...list);
    try {
      slot.port.postMessage(batch, all);
      return;
    } catch {
      // Sent one by one below: only a task whose arguments cannot be sent fails.
    }
    let freed = false;
    for (let i = 0; i < batch.length; i += 4) {
      const order = batch.slice(i, i + 4);
      try {
        slot.port.postMessage(order, moves[i >> 2] ?? []);
      } catch (error) {
        const job = slot.jobs.get(order[0] as number);
        if (typeof order[1] !== "number" || !job) continue;
        // Nothing reached the worker: the task fails, its place is free.
        this.#attemptOver(job);
        if (!job.settled) this.#failed++;
        job.settle(false, argumentError(job, error));
        if (slot.jobs.size === 0) this.#idleAgain(slot);
        freed = true;
      }
    }
    if (freed) this.#pump();
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
    this.#order(slot, job.id, "cancel", errorToData(reason), 0);
    // The task holds its place until it returns; past the grace its
    // worker is stopped, and that death frees the place.
    job.grace = setTimeout(() => {
      if (slot.jobs.get(job.id) === job) void slot.handle.terminate();
    }, this.#grace);
  }

  #receive(slot: Slot, batch: PoolBatch): void {
    for (let i = 0; i < batch.length; i += 4) {
      const id = batch[i] as number;
      const ok = batch[i + 1] as boolean | "progress";
      const value = batch[i + 2];
      const ms = batch[i + 3] as number;
      if (id === POOL_LAST) {
        slot.said = true;
        continue;
      }
      if (id === POOL_UP) {
        slot.up = true;
        if (slot.leaving) continue;
        this.#ready.push(slot);
        this.#idleAgain(slot);
        continue;
      }
      const job = slot.jobs.get(id);
      if (!job) continue;
      if (ok === "progress") {
        this.#progress(job, value);
        continue;
      }
      clearTimeout(job.grace);
      if (ms >= 0) {
        const was = this.#est[job.estKey];
        this.#est[job.estKey] = was === undefined ? ms : 0.75 * was + 0.25 * ms;
      }
      this.#attemptOver(job, ms >= 0 ? ms : undefined);
      slot.ran++;
      if (job.settled) continue;
      if (ok) {
        this.#completed++;
        job.settle(true, value);
      } else {
        this.#retryOrFail(job, dataToError(value as never, slot.handle.name));
      }
    }
    if (slot.said && slot.end) return slot.end();
    if (slot.jobs.size === 0 && slot.up) {
      if (this.#maxTasks > 0 && slot.given >= this.#maxTasks) {
        this.#retire(slot);
      } else this.#idleAgain(slot);
    }
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

  // The attempt on a worker is over (returned, threw, or its worker died);
  // `ms` is its run time as the worker measured it.
  #attemptOver(job: Job, ms?: number): void {
    const now = performance.now();
    this.#runTimes.add(ms ?? now - job.startedAt);
    this.#running.delete(job.id);
    clearTimeout(job.timer);
    const slot = job.worker;
    job.worker = undefined;
    if (!slot || !slot.jobs.delete(job.id)) return;
    if (job.est === Infinity) slot.unknown--;
    else slot.ahead -= job.est;
    if (slot.jobs.size === 0) {
      slot.ahead = 0;
      this.#busy += now - slot.busySince;
    }
  }

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
    if (slot.leaving || this.#idle.includes(slot)) return;
    this.#idle.push(slot);
    if (this.#idleTimeout === Infinity) return;
    clearTimeout(slot.idleTimer);
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

  // Ends a worker gently: it finishes what it was given, then returns.
  #retire(slot: Slot): void {
    if (slot.leaving) return;
    slot.leaving = true;
    clearTimeout(slot.idleTimer);
    this.#unready(slot);
    this.#flush(slot);
    slot.port.postMessage("end");
  }

  #unready(slot: Slot): void {
    let at = this.#idle.indexOf(slot);
    if (at >= 0) this.#idle.splice(at, 1);
    at = this.#ready.indexOf(slot);
    if (at >= 0) this.#ready.splice(at, 1);
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
  // failed starts and its backoff) while the pool still wants them. Each
  // worker gets a channel of its own: the pool's orders and its outcomes
  // go there, a batch per turn each way.
  #newGroup(): WorkerGroup<unknown> {
    const group: WorkerGroup<unknown> = new WorkerGroup<unknown>({
      name: `Pool "${this.#name}"`,
      spawn: (up) => {
        const id = ++this.#workerIds;
        const { port1, port2 } = new MessageChannel();
        let handle: WorkerHandle<unknown>;
        try {
          handle = run(
            this.#driver,
            transfer(port2, [port2]),
            this.#concurrency,
            up,
          );
        } catch (error) {
          port1.close();
          throw error;
        }
        const slot: Slot = {
          id,
          handle,
          port: port1,
          unlisten: () => {},
          up: false,
          leaving: false,
          ran: 0,
          given: 0,
          jobs: new Map(),
          ahead: 0,
          unknown: 0,
          busySince: 0,
          known: new Set(),
          out: [],
          moves: [],
          flushing: false,
          said: false,
        };
        slot.unlisten = runtime.listenPort(
          port1,
          (data) => this.#receive(slot, data as PoolBatch),
        );
        this.#slots.set(id, slot);
        this.#bySlot.set(handle, slot);
        return handle;
      },
      want: () => !this.#closedAndIdle() && this.#live() < this.#wanted(),
      ended: (handle, death) => {
        const slot = this.#bySlot.get(handle);
        this.#bySlot.delete(handle);
        if (!slot) return;
        const error = death?.error;
        const self = error instanceof WorkerError && error.reason === "exit";
        if (!self || slot.said) return this.#ended(slot, error);
        // Not given more, nor counted as live, while its last word comes.
        this.#unready(slot);
        slot.leaving = true;
        const timer = setTimeout(() => slot.end?.(), LAST_WORD_MS);
        slot.end = () => {
          slot.end = undefined;
          clearTimeout(timer);
          this.#ended(slot, error);
        };
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

  // A worker is gone. The tasks it may have been running (the oldest
  // concurrencyPerWorker it was given) fail; the ones prefetched behind
  // them never started there and go back to the queue, in their place.
  #ended(slot: Slot, error: unknown): void {
    this.#slots.delete(slot.id);
    clearTimeout(slot.idleTimer);
    this.#unready(slot);
    slot.unlisten();
    slot.port.close();
    let i = 0;
    for (const job of [...slot.jobs.values()]) {
      clearTimeout(job.grace);
      this.#attemptOver(job);
      if (job.settled) {
        i++;
        continue;
      }
      if (i++ < this.#concurrency) {
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
        continue;
      }
      job.attempt--;
      job.readyAt = performance.now();
      this.#backlog.push(job);
      this.#queued++;
    }
    // A death is replaced by the group; a worker that returned (idle,
    // recycled) leaves room that the next pump fills as needed.
    if (error === undefined) this.#pump();
    else if (this.#queued > 0) this.#pump(false);
    this.#wind();
  }

  #closedAndIdle(): boolean {
    return this.#closing && this.#queued === 0 && this.#running.size === 0 &&
      this.#waiting.size === 0;
  }

  // Once closing and nothing is left to run: end every worker, then
  // resolve close().
  #wind(): void {
    if (!this.#closedAndIdle()) return;
    this.#group.stop();
    for (const slot of this.#slots.values()) this.#retire(slot);
    if (this.#slots.size > 0 || !this.#finish) return;
    const finish = this.#finish;
    this.#finish = undefined;
    finish();
  }
}

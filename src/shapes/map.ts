/**
 * Running a task over many inputs with a few reused workers: Python's
 * `Pool.map` / `imap` / `imap_unordered` and mpmq, with forwarded logs,
 * progress, per-input timeouts and Ctrl-C handling.
 * @module
 */
import { dataToError, type ErrorData, WorkerError } from "../errors.ts";
import type { LogLevel } from "../log.ts";
import type { Msg } from "../msg.ts";
import { Queue } from "../queue/queue.ts";
import { run, stopWith, type WorkerHandle } from "../worker/run.ts";
import { runtime } from "../runtime/mod.ts";
import { drivers, WorkerGroup } from "./workers.ts";
import { type Clock, newClock } from "../worker/clock.ts";
import { transfer } from "../transfer.ts";
import { listCloneError } from "../wire.ts";
import {
  specName,
  type Task,
  task,
  type TaskFunction,
  toSpec,
  workerOptions,
} from "../task.ts";
import * as v from "../validate.ts";
import type { MapChunk, MapResults } from "../worker/protocol.ts";

/** How far a map has come, for `onProgress`. */
export interface MapProgress {
  /** Inputs finished (succeeded or failed). */
  done: number;
  /** All inputs, when known (an array, or the `total` option). */
  total: number | undefined;
  /** Inputs per second so far. */
  rate: number;
  /** Seconds left at that rate, when `total` is known. */
  eta: number | undefined;
}

/** Options of {@linkcode map} and {@linkcode imap}. */
export interface MapOptions<S = unknown> {
  /** Workers at once. @default NUM_CPUS */
  concurrency?: number;
  /** Given to every call as its second argument. */
  shared?: S;
  /**
   * `imap` only: yield in input order (`true`) or as results complete.
   * @default true
   */
  ordered?: boolean;
  /**
   * `true`: the first input that fails rejects the whole map (fail fast).
   * `false`: a failed input's slot holds a {@linkcode MapFailure} and the
   * map goes on. @default true
   */
  raiseIfError?: boolean;
  /** A worker is replaced by a fresh one after this many inputs. @default 0 (never) */
  maxTasksPerWorker?: number;
  /** Inputs sent to a worker at once. @default chosen from the input's length */
  chunkSize?: number;
  /** Milliseconds one input may take; past it its worker is stopped and the input fails. */
  timeout?: number;
  /** Deaths of a worker holding an input before the input fails. @default 2 */
  maxAttempts?: number;
  /** Stops the map: workers are stopped and it rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Receives what tasks log (`log()`, `console.*`) with the input's offset;
   * by default it is printed with a prefix naming the worker.
   */
  onMessage?: (offset: number, message: string, level: LogLevel) => void;
  /** Called as inputs finish. */
  onProgress?: (progress: MapProgress) => void;
  /** A progress bar on standard error; only ever drawn on a terminal. @default true */
  progressBar?: boolean;
  /** The number of inputs, for progress, when `inputs` is not an array. */
  total?: number;
}

/** An input that failed, in the results of a map run with `raiseIfError: false`. */
export class MapFailure {
  /** The input's position. */
  readonly offset: number;
  /** Why it failed: the task's error, or a `WorkerError` (timeout, death). */
  readonly error: unknown;

  /**
   * Created by workq for each failed input.
   * @param offset The input's position.
   * @param error Why it failed.
   */
  constructor(offset: number, error: unknown) {
    this.offset = offset;
    this.error = error;
  }
}

/** The results of a map: values, or also failures with `raiseIfError: false`. */
export type MapValue<F extends TaskFunction, O> = O extends
  { raiseIfError: false } ? Awaited<ReturnType<F>> | MapFailure
  : Awaited<ReturnType<F>>;

/** What a map runs over: an array, an iterable or an async iterable. */
export type MapInputs<T> = Iterable<T> | AsyncIterable<T>;

const MAP_OPTIONS = [
  "concurrency",
  "shared",
  "ordered",
  "raiseIfError",
  "maxTasksPerWorker",
  "chunkSize",
  "timeout",
  "maxAttempts",
  "signal",
  "onMessage",
  "onProgress",
  "progressBar",
  "total",
] as const satisfies readonly (keyof MapOptions)[];

function check(
  what: string,
  inputs: unknown,
  options: MapOptions | undefined,
): MapOptions {
  const o = v.options(what, "options", options, MAP_OPTIONS);
  if (
    inputs === null ||
    typeof inputs !== "object" && typeof inputs !== "string" ||
    !(Symbol.iterator in Object(inputs) ||
      Symbol.asyncIterator in Object(inputs))
  ) {
    throw new TypeError(
      `Cannot ${what}: inputs must be an iterable or async iterable, received ${
        v.show(inputs)
      }`,
    );
  }
  v.number(what, "options.concurrency", o.concurrency, 1, {
    min: 1,
    integer: true,
  });
  v.number(what, "options.maxTasksPerWorker", o.maxTasksPerWorker, 0, {
    min: 0,
    integer: true,
  });
  v.number(what, "options.chunkSize", o.chunkSize, 1, {
    min: 1,
    integer: true,
  });
  v.number(what, "options.timeout", o.timeout, 0, { min: 0 });
  v.number(what, "options.maxAttempts", o.maxAttempts, 1, {
    min: 1,
    integer: true,
  });
  v.number(what, "options.total", o.total, 0, { min: 0, integer: true });
  v.signal(what, "options.signal", o.signal);
  v.callback(what, "options.onMessage", o.onMessage);
  v.callback(what, "options.onProgress", o.onProgress);
  return o;
}

/** Draws progress on a terminal, at most ten times a second. */
function progressBar(write: (text: string) => void) {
  let last = 0;
  return {
    draw(p: MapProgress, force = false) {
      const now = performance.now();
      if (!force && now - last < 100) return;
      last = now;
      const width = 24;
      const filled = p.total ? Math.round((p.done / p.total) * width) : 0;
      const bar = p.total
        ? `[${"#".repeat(filled)}${"-".repeat(width - filled)}] `
        : "";
      const eta = p.eta === undefined ? "" : ` ETA ${p.eta.toFixed(0)}s`;
      write(
        `\r${bar}${p.done}${p.total ? `/${p.total}` : ""} ${
          p.rate.toFixed(0)
        }/s${eta}   `,
      );
    },
    end() {
      write("\n");
    },
  };
}

/** Counts results held back for ordering, so that the feeder can pause. */
interface Backlog {
  count: number;
}

// Drives the workers and yields chunks of [offset, value] as they complete.
async function* engine(
  fn: Task,
  inputs: MapInputs<unknown>,
  options: MapOptions | undefined,
  backlog: Backlog,
): AsyncGenerator<[number, unknown][], void, undefined> {
  const what = "map a task over inputs";
  const o = check(what, inputs, options);
  const { spec, options: taskOptions } = toSpec(fn);
  const name = specName(spec, taskOptions);
  const concurrency = o.concurrency ?? runtime.cpus;
  const raiseIfError = o.raiseIfError ?? true;
  const known = Array.isArray(inputs) ? inputs.length : o.total;
  const chunk = o.chunkSize ??
    (o.timeout ? 1 : Math.max(
      1,
      Math.min(1024, Math.ceil((known ?? 0) / (concurrency * 32))),
    ));
  const timeout = o.timeout ?? 0;
  const clocks = new Map<WorkerHandle<number>, Clock>();

  // Results and the main thread's own notices (dead letters) share one queue.
  const results = new Queue<unknown>({ name: `${name}:results` });
  const work = new Queue<MapChunk>({
    name: `${name}:inputs`,
    maxsize: concurrency * 2,
    maxAttempts: o.maxAttempts ?? 2,
    onDeadLetter: (msg, error) => {
      const [start, items] = msg.data as MapChunk;
      const failed: MapResults = [
        start,
        [],
        items.map((_, i): [number, unknown] => [i, error]),
      ];
      void results.put(failed, { kind: "dead" });
    },
  });

  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    failure ??= { error };
    wake();
  };
  let waker: (() => void) | undefined;
  const wake = () => {
    const w = waker;
    waker = undefined;
    w?.();
  };

  // Workers: kept at `concurrency` while work remains.
  const names: string[] = []; // by index, for the log's prefix
  const mapWorker = task(drivers, "mapWorker", {
    name,
    ...workerOptions(taskOptions),
  });
  const group = new WorkerGroup<number>({
    name: `Cannot map "${name}"`,
    spawn: (up) => {
      const clock = timeout ? newClock() : undefined;
      const end = clock?.end;
      const handle = run(
        mapWorker,
        work,
        results,
        spec,
        o.shared,
        o.maxTasksPerWorker ?? 0,
        names.length,
        end instanceof Float64Array || !end ? end : transfer(end, [end]),
        up,
      ) as WorkerHandle<number>;
      names.push(handle.name);
      if (clock) clocks.set(handle, clock);
      return handle;
    },
    want: () => !failure,
    ended: (handle, death) => {
      clocks.get(handle)?.close();
      clocks.delete(handle);
      // The task itself could not run (its module, its export): no use retrying.
      if (death && !(death.error instanceof WorkerError)) fail(death.error);
    },
    failed: fail,
    signals: ["SIGINT"],
    abort: o.signal,
    onStop: (why) =>
      fail(
        why === "abort" ? o.signal!.reason : new Error(
          `Cannot finish the map of "${name}": interrupted (SIGINT)`,
        ),
      ),
  });
  group.start(concurrency);
  const workerName = (i: number) => names[i] ?? `${name}-worker`;

  // A per-input timeout: the main thread watches each worker's clock.
  const watchdog = timeout
    ? setInterval(() => {
      const now = Date.now();
      for (const [handle, { cell: clock }] of clocks) {
        if (clock[0] < 0 || now - clock[1] <= timeout) continue;
        // The input itself is the cause: it fails now and is not retried.
        const error = new WorkerError(
          handle.name,
          "timeout",
          `took longer than ${timeout} ms on input ${clock[0]}`,
        );
        clock[0] = -1;
        void stopWith(handle, Object.assign(error, { culprit: true }));
      }
    }, Math.max(5, Math.min(100, timeout / 4)))
    : undefined;

  // The feeder pulls inputs only as the bounded queue has room, and pauses
  // while too many results wait for an earlier slow one (ordered output).
  let fed = 0;
  let fedAll = false;
  let stopping = false;
  const limit = Math.max(1024, concurrency * chunk * 64);
  let resume: (() => void) | undefined;
  // Ends the feeder's waits when the map stops early, so that it leaves the
  // input's loop (closing the input iterator: its `finally` runs).
  let halt!: () => void;
  const halted = new Promise<void>((resolve) => (halt = resolve));
  const feeder = (async () => {
    let batch: unknown[] = [];
    let start = 0;
    // Only a full chunk waits (for room, or for the ordered backlog to drain).
    const flush = async () => {
      const chunk: MapChunk = [start, batch];
      start += batch.length;
      batch = [];
      // An input that cannot cross is named by its place, as run() names an
      // argument, not by the inner queue that refused it.
      const put = work.put(chunk).catch((error) => {
        throw listCloneError(what, "input", chunk[1], chunk[0], error) ??
          error;
      });
      put.catch(() => {}); // a put cut short by a stop settles unobserved
      await Promise.race([put, halted]);
      if (backlog.count > limit && !stopping) {
        await new Promise<void>((r) => (resume = r));
      }
    };
    if (Array.isArray(inputs)) {
      for (const input of inputs) {
        if (failure || stopping) return;
        batch.push(input);
        fed++;
        if (batch.length >= chunk) await flush();
      }
    } else {
      for await (const input of inputs as AsyncIterable<unknown>) {
        if (failure || stopping) return;
        batch.push(input);
        fed++;
        if (batch.length >= chunk) await flush();
        if (failure || stopping) return;
      }
    }
    if (batch.length > 0) await flush();
    fedAll = true;
    wake();
  })().catch((error) => fail(error));

  const bar = o.progressBar === false ? undefined : runtime.terminal();
  const drawn = bar ? progressBar(bar) : undefined;
  const started = performance.now();

  let received = 0;
  let seen = new Uint8Array(1024); // offsets are dense: a bitmap, grown as needed
  // One read is outstanding at a time: a wake-up must not orphan it.
  let reading: Promise<Msg<unknown>> | undefined;
  try {
    while (!failure && !(fedAll && received === fed)) {
      reading ??= results.get();
      const got = await Promise.race([
        reading,
        new Promise<undefined>((resolve) => (waker = () => resolve(undefined))),
      ]);
      waker = undefined;
      if (!got) continue;
      reading = undefined;
      if (failure) continue;
      const msg = got as Msg<unknown>;
      if (msg.kind === "log") {
        const [i, offset, level, text] = msg.data as [
          number,
          number,
          LogLevel,
          string,
        ];
        if (o.onMessage) o.onMessage(offset, text, level);
        else console[level](`[${workerName(i)}] ${text}`);
        continue;
      }
      const [start, values, failures] = msg.data as MapResults;
      const count = Math.max(
        values.length,
        failures.length ? failures[failures.length - 1][0] + 1 : 0,
      );
      if (start + count > seen.length) {
        const grown = new Uint8Array(Math.max(seen.length * 2, start + count));
        grown.set(seen);
        seen = grown;
      }
      const out: [number, unknown][] = [];
      const failed = new Map(failures);
      for (let i = 0; i < count; i++) {
        const offset = start + i;
        if (seen[offset]) continue; // a redelivered input that had finished
        seen[offset] = 1;
        received++;
        if (!failed.has(i)) {
          out.push([offset, values[i]]);
          continue;
        }
        const value = failed.get(i);
        const error = msg.kind === "dead"
          ? value
          : dataToError(value as ErrorData);
        if (raiseIfError) {
          fail(error);
          break;
        }
        out.push([offset, new MapFailure(offset, error)]);
      }
      if (out.length > 0 && !failure) yield out;
      if (backlog.count <= limit) {
        resume?.();
        resume = undefined;
      }
      const progress: MapProgress = {
        done: received,
        total: known,
        rate: received / Math.max(0.001, (performance.now() - started) / 1000),
        eta: undefined,
      };
      if (known !== undefined) {
        progress.eta = (known - received) / Math.max(progress.rate, 1e-9);
      }
      o.onProgress?.(progress);
      drawn?.draw(progress);
    }
    if (failure) throw failure.error;
  } finally {
    stopping = true;
    group.stop();
    halt();
    if (watchdog !== undefined) clearInterval(watchdog);
    resume?.();
    if (drawn) {
      drawn.draw(
        { done: received, total: known, rate: 0, eta: undefined },
        true,
      );
      drawn.end();
    }
    // Stopped early (an error, an abort, Ctrl-C, or the caller broke out),
    // the workers are terminated; else each ends at its end marker.
    const early = failure || !(fedAll && received === fed);
    await group.close(early ? {} : { end: () => work.end() });
    // The input iterator is closed (its `finally` has run) before we return.
    await feeder;
  }
}

/**
 * Runs `fn` over `inputs` with at most `concurrency` workers, reused across
 * inputs, and yields the results: in input order, or as they complete with
 * `ordered: false`. Inputs are pulled lazily, so an endless or huge input
 * stream runs in bounded memory. Leaving the loop early (`break`, `return`,
 * a throw) stops the workers and closes the input iterator (its `finally`
 * runs) before the loop's exit completes.
 *
 * @param fn The task: called as `fn(input, shared)` in a worker.
 * @param inputs An array, iterable or async iterable.
 * @param options Concurrency, shared data, order, errors, logs, progress, limits.
 * @returns An async iterator of results.
 * @throws {TypeError} When `fn` is not a task, `inputs` not iterable, or an option wrong.
 * @throws The first input's error with `raiseIfError` (the default), a
 * `WorkerError` for a timeout, or the signal's reason / an interruption error.
 * @throws {Error} When workers failed to start five times in a row (retried
 * with a growing delay); its `cause` is the last failure.
 * @example
 * ```ts
 * import { imap } from "@workq/workq";
 * const squares = [];
 * for await (const square of imap((x: number) => x * x, [1, 2, 3])) {
 *   squares.push(square); // in input order, as each is ready
 * }
 * console.log(squares); // [1, 4, 9]
 * ```
 */
export async function* imap<
  F extends TaskFunction,
  O extends MapOptions<Parameters<F>[1]> = MapOptions,
>(
  fn: Task<F>,
  inputs: MapInputs<Parameters<F>[0]>,
  options?: O,
): AsyncGenerator<MapValue<F, O>, void, undefined> {
  const ordered = options?.ordered ?? true;
  const backlog: Backlog = { count: 0 };
  const pending = new Map<number, unknown>();
  let next = 0;
  for await (const chunk of engine(fn as Task, inputs, options, backlog)) {
    if (!ordered) {
      for (const [, value] of chunk) yield value as MapValue<F, O>;
      continue;
    }
    for (const [offset, value] of chunk) pending.set(offset, value);
    backlog.count = pending.size;
    while (pending.has(next)) {
      const value = pending.get(next);
      pending.delete(next++);
      backlog.count = pending.size;
      yield value as MapValue<F, O>;
    }
  }
}

/**
 * Runs `fn` over `inputs` with at most `concurrency` workers and resolves
 * with every result, in input order — Python's `Pool.map`, mpmq's
 * `execute()`.
 *
 * @param fn The task: called as `fn(input, shared)` in a worker.
 * @param inputs An array, iterable or async iterable.
 * @param options Concurrency, shared data, errors, logs, progress, limits.
 * @returns The results in input order (with {@linkcode MapFailure}s in place
 * of failed inputs when `raiseIfError` is `false`).
 * @throws {TypeError} When `fn` is not a task, `inputs` not iterable, or an option wrong.
 * @throws The first input's error with `raiseIfError` (the default).
 * @throws {Error} When workers failed to start five times in a row (retried
 * with a growing delay); its `cause` is the last failure.
 * @example mpmq's example: a function over inputs, with shared data
 * ```ts
 * import { map } from "@workq/workq";
 * const results = await map(
 *   (pid: number, shared: { number: number }) => shared.number + pid,
 *   [0, 1, 2],
 *   { shared: { number: 10 } },
 * );
 * console.log(results); // [10, 11, 12]
 * ```
 */
export async function map<
  F extends TaskFunction,
  O extends MapOptions<Parameters<F>[1]> = MapOptions,
>(
  fn: Task<F>,
  inputs: MapInputs<Parameters<F>[0]>,
  options?: O,
): Promise<MapValue<F, O>[]> {
  // Results go straight to their slots: no reordering, no per-item yield.
  const out: MapValue<F, O>[] = Array.isArray(inputs)
    ? new Array(inputs.length)
    : [];
  for await (const chunk of engine(fn as Task, inputs, options, { count: 0 })) {
    for (const [offset, value] of chunk) out[offset] = value as MapValue<F, O>;
  }
  return out;
}

/**
 * QuasiQueue's shape: a named feeder for jobs that never end. A writer on
 * the main thread fills the queue when it runs low; reader workers drain
 * it; settings come from code, the environment and defaults.
 * @module
 */
import { dataToError, type ErrorData } from "../errors.ts";
import { Queue } from "../queue/queue.ts";
import { run, type WorkerHandle } from "../worker/run.ts";
import { runtime } from "../runtime/mod.ts";
import { drivers, WorkerGroup } from "./workers.ts";
import { type Task, task, toSpec, workerOptions } from "../task.ts";
import * as v from "../validate.ts";

/** The feeder's settings, with QuasiQueue's meaning and defaults (times in seconds). */
export interface FeederSettings {
  /** Seconds the writer sleeps after returning nothing. @default 1 */
  emptyQueueSleepTime: number;
  /** Seconds the writer sleeps when the queue is full. @default 5 */
  fullQueueSleepTime: number;
  /** Seconds readers get to finish the items they hold when stopping. @default 30 */
  gracefulShutdownTimeout: number;
  /** The `desiredItems` asked of the writer (lowered to the room left). @default 10 */
  lookupBlockSize: number;
  /** Items a reader worker handles before a fresh one replaces it. @default 200 */
  maxJobsPerWorker: number;
  /** The most items the queue holds. @default 300 */
  maxQueueSize: number;
  /** Reader workers. @default 2 */
  numWorkers: number;
  /** Seconds during which an item seen before is not queued again. @default 300 */
  preventRequeuingTime: number;
  /** Seconds to wait for room in the queue before the writer backs off. @default 0.01 */
  queueInteractionTimeout: number;
}

const DEFAULTS: Readonly<FeederSettings> = Object.freeze({
  emptyQueueSleepTime: 1,
  fullQueueSleepTime: 5,
  gracefulShutdownTimeout: 30,
  lookupBlockSize: 10,
  maxJobsPerWorker: 200,
  maxQueueSize: 300,
  numWorkers: 2,
  preventRequeuingTime: 300,
  queueInteractionTimeout: 0.01,
});

const SETTINGS = Object.keys(DEFAULTS);
const FEEDER_OPTIONS = [
  "writer",
  "reader",
  "context",
  "settings",
  "onResult",
  "onError",
  "key",
  "signal",
] as const satisfies readonly (keyof FeederOptions<unknown>)[];
// A setting given beside the options belongs in `settings`.
const MISPLACED: Record<string, string> = Object.fromEntries(
  SETTINGS.map((key) => [key, `options.settings.${key}`]),
);

const INTEGERS = new Set([
  "lookupBlockSize",
  "maxJobsPerWorker",
  "maxQueueSize",
  "numWorkers",
]);

/** Counts of a feeder's work. */
export interface FeederStats {
  /** Items the writer gave that were queued. */
  written: number;
  /** Items readers finished. */
  read: number;
  /** Items whose reader threw, or that killed every worker that took them. */
  failed: number;
  /** Items dropped as seen within `preventRequeuingTime`. */
  duplicates: number;
  /** Workers replaced after `maxJobsPerWorker` items. */
  recycled: number;
  /** Workers replaced after they died. */
  replaced: number;
}

/** Options of {@linkcode Feeder}. */
// deno-lint-ignore no-explicit-any
export interface FeederOptions<T, C = any> {
  /**
   * Runs on the main thread when the queue is low: returns up to
   * `desiredItems` items (an array, iterable or async iterable), or `null`
   * when it has nothing now.
   */
  writer: (
    desiredItems: number,
  ) =>
    | Iterable<T>
    | AsyncIterable<T>
    | null
    | undefined
    | Promise<
      Iterable<T> | null | undefined
    >;
  /** Runs in a worker, once per item: `reader(item, context)`. */
  reader: Task<(item: T, context: C) => unknown>;
  /** Runs once when each worker starts; its result is every `reader` call's `context`. */
  context?: Task<() => C | Promise<C>>;
  /** Settings in code; they win over the environment, which wins over the defaults. */
  settings?: Partial<FeederSettings>;
  /** Called on the main thread with what each `reader` call returned. */
  onResult?: (value: unknown) => void;
  /** Called with each reader error and its item (by default printed, naming the feeder). */
  onError?: (error: unknown, item: T) => void;
  /** What identifies an item for de-duplication. @default the item itself (JSON for objects) */
  key?: (item: T) => unknown;
  /** Stops the feeder, gracefully, like SIGINT. */
  signal?: AbortSignal;
}

/** What `main()` resolves with once the feeder has stopped. */
export interface FeederResult<T> {
  /** Items that were queued but never read: reported, never dropped. */
  unread: T[];
  /** The final counts. */
  stats: FeederStats;
}

function envName(name: string, key: string): string {
  const upper = (s: string) =>
    s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[^A-Za-z0-9]+/g, "_")
      .toUpperCase();
  return `${upper(name)}_${upper(key)}`;
}

/**
 * Resolves a feeder's settings: code wins over environment variables
 * (`<NAME>_<SETTING>`, e.g. `CRAWLER_NUM_WORKERS` for a feeder named
 * "crawler"), which win over the defaults. A variable that is set but not a
 * valid value is an error naming it. Where the environment may not be read
 * (Deno without `--allow-env`), the variables cannot apply: one warning on
 * standard error per feeder name says so and names the flag
 * (`--allow-env=CRAWLER_*`); the code's settings and the defaults apply.
 *
 * @param name The feeder's name.
 * @param given Settings in code.
 * @returns The settings in force.
 * @throws {TypeError} When a value is not a number, naming the setting, the variable and the value, or a setting is unknown.
 * @throws {RangeError} When a value is out of range.
 * @example
 * ```ts
 * import { feederSettings } from "@workq/workq";
 * console.log(feederSettings("crawler", { numWorkers: 4 }).numWorkers); // 4
 * ```
 */
export function feederSettings(
  name: string,
  given?: Partial<FeederSettings>,
): FeederSettings {
  const what = `configure feeder "${name}"`;
  const code = v.options(what, "settings", given, SETTINGS);
  const out = { ...DEFAULTS } as FeederSettings;
  const denied: string[] = [];
  for (const key of Object.keys(DEFAULTS) as (keyof FeederSettings)[]) {
    const integer = INTEGERS.has(key);
    const min = key === "numWorkers" || key === "lookupBlockSize" ||
        key === "maxJobsPerWorker" || key === "maxQueueSize"
      ? 1
      : 0;
    if (code[key] !== undefined) {
      out[key] = v.number(what, `settings.${key}`, code[key], DEFAULTS[key], {
        min,
        integer,
      });
      continue;
    }
    const variable = envName(name, key);
    const raw = runtime.env(variable);
    if (raw === undefined && runtime.envDenied(variable)) denied.push(variable);
    if (raw === undefined || raw.trim() === "") continue;
    const value = Number(raw);
    if (!Number.isFinite(value)) {
      throw new TypeError(
        `Cannot ${what}: ${key} from ${variable} must be a number, received ${
          JSON.stringify(raw)
        }`,
      );
    }
    if (value < min || (integer && !Number.isInteger(value))) {
      throw new RangeError(
        `Cannot ${what}: ${key} from ${variable} must be ${
          integer ? "an integer " : ""
        }at least ${min}, received ${raw}`,
      );
    }
    out[key] = value;
  }
  // Not allowed to read them (Deno without --allow-env) is not "unset":
  // said once per feeder name, naming the flag that lets them apply.
  if (denied.length > 0 && !warned.has(name)) {
    warned.add(name);
    const prefix = envName(name, "");
    console.warn(
      `Feeder "${name}": cannot read its settings from the environment (${
        denied.join(", ")
      }): not allowed. Run Deno with --allow-env=${prefix}* to use them; going on with the settings in code and the defaults.`,
    );
  }
  return out;
}

// Feeder names already warned that their environment cannot be read.
const warned = new Set<string>();

/**
 * A named feeder for long-running jobs — QuasiQueue. `main()` runs until
 * stopped (SIGINT or SIGTERM, the `signal`, or `stop()`): then the writer
 * stops, readers finish the items they hold within
 * `gracefulShutdownTimeout`, the rest are terminated, and items queued but
 * never read are returned. A second signal (SIGINT or SIGTERM) or
 * `stop(true)` stops at once: readers are terminated and what they held is
 * returned as unread. A writer that gives nothing new (null, an empty
 * iterable, only items seen within `preventRequeuingTime`) sleeps
 * `emptyQueueSleepTime`. A reader that throws does not stop the feeder
 * (`onError`); a worker that dies is replaced, and an item that killed
 * every worker that took it (three) is reported to `onError` and counted as
 * failed. Every item written is counted once: `written = read + failed +
 * unread`. Readers that cannot start (their module does not load, the
 * thread cannot be spawned) are retried with a growing delay; five failed
 * starts in a row stop the feeder and `main()` rejects naming the cause.
 *
 * @typeParam T The items' type.
 * @typeParam C The context's type.
 * @example
 * <!-- test: module ./crawl.ts crawl.ts -->
 * ```ts ignore
 * import { Feeder, task } from "@workq/workq";
 * const urls = ["https://a.example/", "https://b.example/"];
 * const crawl = new URL("./crawl.ts", import.meta.url);
 * const feeder: Feeder<string> = new Feeder("crawler", {
 *   writer: (desired: number) => {
 *     if (urls.length) return urls.splice(0, desired);
 *     feeder.stop(); // as Ctrl-C would, once every URL is out
 *     return null;
 *   },
 *   reader: task(crawl, "reader"),
 *   context: task(crawl, "connect"), // once per worker
 *   onResult: (page) => console.log(page),
 *   settings: { numWorkers: 2 },
 * });
 * const { unread, stats } = await feeder.main();
 * console.log(stats.written, stats.read + unread.length); // 2 2
 * ```
 */
// deno-lint-ignore no-explicit-any
export class Feeder<T = unknown, C = any> {
  /** The feeder's name: in its workers' names, its errors and its environment variables. */
  readonly name: string;
  /** The settings in force. */
  readonly settings: Readonly<FeederSettings>;
  readonly #options: FeederOptions<T, C>;
  readonly #stats: FeederStats = {
    written: 0,
    read: 0,
    failed: 0,
    duplicates: 0,
    recycled: 0,
    replaced: 0,
  };
  #stopping: ((force: boolean) => void) | undefined;
  #stopRequested: boolean | undefined;

  /**
   * Creates the feeder; nothing runs until `main()`.
   * @param name Its name (also the prefix of its environment variables).
   * @param options The writer, the reader, the context, settings, callbacks.
   * @throws {TypeError} When an option or setting has the wrong type.
   * @throws {RangeError} When a setting is out of range.
   */
  constructor(name: string, options: FeederOptions<T, C>) {
    const what = "create a feeder";
    if (typeof name !== "string" || name === "") {
      throw new TypeError(
        `Cannot ${what}: name must be a non-empty string, received ${
          v.show(name)
        }`,
      );
    }
    const o = v.options(what, "options", options, FEEDER_OPTIONS, MISPLACED);
    if (typeof o.writer !== "function") {
      throw new TypeError(
        `Cannot ${what}: options.writer must be a function, received ${
          v.show(o.writer)
        }`,
      );
    }
    toSpec(o.reader);
    if (o.context !== undefined) toSpec(o.context);
    v.callback(what, "options.onError", o.onError);
    v.callback(what, "options.onResult", o.onResult);
    v.callback(what, "options.key", o.key);
    v.signal(what, "options.signal", o.signal);
    this.name = name;
    this.#options = o;
    this.settings = Object.freeze(feederSettings(name, o.settings));
  }

  /**
   * The counts so far.
   * @returns A copy of the counts.
   * @example
   * ```ts
   * import { Feeder } from "@workq/workq";
   * const feeder = new Feeder("squares", {
   *   writer: () => null,
   *   reader: (n: number) => n * n,
   * });
   * feeder.stop(); // before main(): it returns at once
   * await feeder.main();
   * console.log(feeder.stats().read); // 0
   * ```
   */
  stats(): FeederStats {
    return { ...this.#stats };
  }

  /**
   * Asks a running feeder to stop gracefully (`force`: at once). A forced
   * stop after a graceful one cuts its grace period short.
   * @param force Terminate readers without waiting.
   * @example
   * ```ts
   * import { Feeder } from "@workq/workq";
   * const feeder = new Feeder("squares", {
   *   writer: () => null,
   *   reader: (n: number) => n * n,
   * });
   * setTimeout(() => feeder.stop(), 100);
   * const { unread } = await feeder.main();
   * console.log(unread); // []
   * ```
   */
  stop(force = false): void {
    if (this.#stopping) this.#stopping(force);
    else this.#stopRequested = force || (this.#stopRequested ?? false);
  }

  /**
   * Runs the feeder until it is stopped.
   * @returns The items never read and the final counts.
   * @throws {TypeError} When the writer returns something that is not iterable.
   * @throws {Error} When readers failed to start five times in a row; its
   * `cause` is the last failure. The writer's own error, when it throws.
   * @example
   * ```ts
   * import { Feeder } from "@workq/workq";
   * const items = [1, 2, 3];
   * const feeder: Feeder<number> = new Feeder("squares", {
   *   writer: (desired: number) => {
   *     if (items.length) return items.splice(0, desired);
   *     feeder.stop();
   *     return null;
   *   },
   *   reader: (n: number) => n * n,
   *   settings: { numWorkers: 1 },
   * });
   * const { unread, stats } = await feeder.main();
   * console.log(stats.written, stats.read + unread.length); // 3 3
   * ```
   */
  async main(): Promise<FeederResult<T>> {
    const s = this.settings;
    const o = this.#options;
    // Items travel with an id: each is counted once (read, failed or
    // unread), even when a dying worker's item is delivered again.
    const pending = new Map<number, T>();
    let nextId = 0;
    const onError = o.onError ??
      ((error: unknown, item: T) =>
        console.error(`[${this.name}] the reader failed on`, item, error));
    const settle = (id: number, ok: boolean, value: unknown) => {
      if (!pending.has(id)) return; // a redelivered item already counted
      const item = pending.get(id)!;
      pending.delete(id);
      if (ok) {
        this.#stats.read++;
        o.onResult?.(value);
      } else {
        this.#stats.failed++;
        onError(value, item);
      }
    };
    const items = new Queue<[number, T]>({
      name: `${this.name}:items`,
      maxsize: s.maxQueueSize,
      // An item that killed every worker that took it: failed, and said why.
      onDeadLetter: (msg, error) => {
        const [id] = msg.data as [number, T];
        settle(
          id,
          false,
          new Error(
            `Feeder "${this.name}": the item killed ${msg.attempt} reader workers that took it; the last: ${error.message}`,
            { cause: error },
          ),
        );
      },
    });
    const outcomes = new Queue<[number, boolean, unknown]>({
      name: `${this.name}:outcomes`,
    });
    const { spec: reader, options: readerOptions } = toSpec(o.reader);
    const context = o.context === undefined ? undefined : toSpec(o.context);
    // The reader and its context share one worker: it is narrowed or
    // limited as they say, and they must not say two different things.
    const own = workerOptions(readerOptions);
    const theirs = context ? workerOptions(context.options) : {};
    if (
      Object.keys(theirs).length && Object.keys(own).length &&
      JSON.stringify(own) !== JSON.stringify(theirs)
    ) {
      throw new TypeError(
        `Cannot start Feeder "${this.name}": reader and context run in one worker, so give deno and resourceLimits on one of them (or the same on both)`,
      );
    }
    const feederWorker = task(drivers, "feederWorker", {
      name: this.name,
      ...(Object.keys(own).length ? own : theirs),
    });
    let running = true;
    let forced = false;
    let failure: { error: unknown } | undefined;
    let wakeWriter: (() => void) | undefined;
    let stopped!: () => void;
    const whenStopped = new Promise<void>((resolve) => (stopped = resolve));
    let forceNow!: () => void;
    const whenForced = new Promise<void>((resolve) => (forceNow = resolve));
    this.#stopping = (force) => {
      if (force) {
        forced = true;
        forceNow();
      }
      if (!running) return;
      running = false;
      wakeWriter?.();
      stopped();
    };
    if (this.#stopRequested !== undefined) this.#stopping(this.#stopRequested);
    const group = new WorkerGroup<number>({
      name: `Feeder "${this.name}"`,
      noun: "reader workers",
      spawn: (up) =>
        run(
          feederWorker,
          items,
          outcomes,
          reader,
          context?.spec,
          s.maxJobsPerWorker,
          up,
        ) as WorkerHandle<number>,
      want: () => running,
      ended: (_, death) => {
        if (running) this.#stats[death ? "replaced" : "recycled"]++;
      },
      replacing: (error, delay) =>
        console.error(
          `[${this.name}] ${(error as Error).message ?? error}; replacing it${
            delay ? ` in ${delay} ms` : ""
          }`,
        ),
      failed: (error) => {
        failure ??= { error };
        this.#stopping?.(true);
      },
      signals: ["SIGINT", "SIGTERM"],
      abort: o.signal,
      // The first signal stops gracefully, a second one (either kind) at once.
      onStop: (why, count) => this.#stopping?.(why !== "abort" && count > 1),
    });
    if (running) group.start(s.numWorkers);

    // Outcomes of reads: counts, and errors reported with their item.
    const reading = (async () => {
      for (;;) {
        const msg = await outcomes.get();
        if (msg.kind !== "") return;
        const [id, ok, value] = msg.data;
        settle(id, ok, ok ? value : dataToError(value as ErrorData));
      }
    })();

    const seen = new Map<unknown, number>();
    const keyOf = o.key ??
      ((
        item: T,
      ) => (typeof item === "object" && item !== null
        ? JSON.stringify(item)
        : item));
    const sleep = (seconds: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, seconds * 1000);
        wakeWriter = () => {
          clearTimeout(timer);
          resolve();
        };
      });

    // The writer: asked only when the queue is low, for no more than the room left.
    // A writer that throws (or gives an item that cannot be cloned) stops the
    // feeder at once: readers are stopped too, then the error is thrown.
    try {
      while (running) {
        const room = s.maxQueueSize - items.size;
        if (room <= 0) {
          await sleep(s.fullQueueSleepTime);
          continue;
        }
        if (items.size >= s.lookupBlockSize) {
          await sleep(
            Math.min(s.queueInteractionTimeout, s.emptyQueueSleepTime),
          );
          continue;
        }
        const desired = Math.min(s.lookupBlockSize, room);
        const given = await o.writer(desired);
        if (given === null || given === undefined) {
          await sleep(s.emptyQueueSleepTime);
          continue;
        }
        if (
          !(Symbol.iterator in Object(given) ||
            Symbol.asyncIterator in Object(given))
        ) {
          throw new TypeError(
            `Feeder "${this.name}": the writer must return an iterable or null, received ${
              v.show(given)
            }`,
          );
        }
        const now = Date.now();
        let added = 0;
        for await (const item of given as AsyncIterable<T>) {
          const key = keyOf(item);
          const last = seen.get(key);
          if (
            last !== undefined && now - last < s.preventRequeuingTime * 1000
          ) {
            this.#stats.duplicates++;
            continue;
          }
          seen.set(key, now);
          const id = nextId++;
          // A writer that gave more than the room left waits here, unless stopped.
          const put = items.put([id, item]);
          await Promise.race([put, whenStopped]);
          if (!running) {
            // Kept if the put went through: then it is reported unread.
            void put.then(() => {
              pending.set(id, item);
              this.#stats.written++;
            }, () => {});
            break;
          }
          pending.set(id, item);
          this.#stats.written++;
          added++;
        }
        for (const [key, at] of seen) {
          if (now - at >= s.preventRequeuingTime * 1000) seen.delete(key);
        }
        // Nothing new (empty, or only items seen lately) is no work: sleep.
        if (added === 0 && running) await sleep(s.emptyQueueSleepTime);
      }
    } catch (error) {
      failure ??= { error };
      this.#stopping?.(true);
    }

    // Stopping: take back what nobody has read; readers finish what they hold.
    await whenStopped;
    const takeBack = async () => {
      while (items.size > 0) {
        const msg = await items.get({ timeout: 0 }).catch(() => undefined);
        if (!msg) break;
      }
    };
    await takeBack();
    // The grace period must not keep the process alive once readers are
    // done; a forced stop (a second signal, stop(true)) cuts it short.
    await group.close({
      end: () => items.end(),
      graceMs: forced ? 0 : s.gracefulShutdownTimeout * 1000,
      cut: whenForced,
    });
    await takeBack(); // what terminated readers held comes back here
    await outcomes.end();
    await reading;
    group.stop();
    this.#stopping = undefined;
    if (failure) throw failure.error;
    // Written and neither read nor failed: unread, in the order written.
    const unread = [...pending.keys()].sort((a, b) => a - b).map((id) =>
      pending.get(id)!
    );
    return { unread, stats: this.stats() };
  }
}

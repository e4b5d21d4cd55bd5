/**
 * The worker side of the higher-level shapes (map, ProcessQueue): built-in
 * module tasks that load the user's task and drive it.
 * @module
 */
import { END, Msg } from "../msg.ts";
import { iterMsg } from "../queue/iter.ts";
import type { Queue } from "../queue/queue.ts";
import { errorToData } from "../errors.ts";
import { type LogLevel, setLogSink } from "../log.ts";
import type { TaskSpec } from "../task.ts";
import { findUncloneable } from "../wire.ts";
import { type ClockEnd, stamp } from "./clock.ts";
import { explain, load } from "./load.ts";
import type { MapChunk, MapResults } from "./protocol.ts";

const LEVELS: LogLevel[] = ["debug", "log", "info", "warn", "error"];

function format(args: unknown[]): string {
  return args.map((
    a,
  ) => (typeof a === "string"
    ? a
    : a instanceof Error
    ? a.stack ?? String(a)
    : safeJson(a))
  ).join(
    " ",
  );
}

function safeJson(value: unknown): string {
  try {
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  } catch {
    return String(value);
  }
}

/**
 * Runs `spec` over chunks of `[offset, input]` read from `inputs` and puts a
 * chunk of results on `results`. While it runs, `log()` and the console
 * become messages on `results` (kind "log") with the current offset. `clock`
 * (see `clock.ts`) tells the main thread the offset in progress and when it
 * started, for per-input timeouts. `up` is raised once the task is loaded.
 */
export async function mapWorker(
  inputs: Queue<MapChunk>,
  results: Queue<unknown>,
  spec: TaskSpec,
  shared: unknown,
  maxTasks: number,
  index: number,
  clock: ClockEnd | undefined,
  up: Int32Array | undefined,
): Promise<number> {
  const fn = await load(spec);
  if (up) Atomics.store(up, 0, 1); // no failed start (src/shapes/workers.ts)
  let offset = -1;
  const forward = (level: LogLevel, message: string) => {
    void results.put(
      new Msg({ kind: "log", data: [index, offset, level, message] }),
    );
  };
  setLogSink(forward);
  const console = globalThis.console as unknown as Record<
    string,
    (...args: unknown[]) => void
  >;
  for (const level of LEVELS) {
    console[level] = (...args: unknown[]) => forward(level, format(args));
  }
  let done = 0;
  for await (const msg of iterMsg(inputs)) {
    const [start, items] = msg.data;
    const values = new Array<unknown>(items.length);
    const failures: [number, unknown][] = [];
    for (let i = 0; i < items.length; i++) {
      offset = start + i;
      stamp(clock, offset);
      try {
        let value = fn(items[i], shared);
        // Awaiting a plain value would cost a turn per input.
        if (value instanceof Promise) value = await value;
        const bad = typeof value === "object" && value !== null
          ? findUncloneable(value)
          : undefined;
        if (bad) {
          failures.push([
            i,
            errorToData(
              new TypeError(`Cannot return ${bad}: it cannot be cloned`),
            ),
          ]);
        } else values[i] = value;
      } catch (error) {
        failures.push([i, errorToData(explain(error, spec))]);
      }
      stamp(clock, -1);
    }
    const out: MapResults = [start, values, failures];
    await results.put(new Msg({ kind: "results", data: out }));
    done += items.length;
    if (maxTasks > 0 && done >= maxTasks) break;
  }
  return done;
}

/**
 * ProcessQueue's worker: asks for a batch (`asks`), handles each item of
 * the batch it gets (`batches`), and ends when it is told the queue is empty
 * (an end marker) — the main thread decides that, so no batch is stranded.
 * `up` is raised once the handler is loaded; `finished` (shared with the
 * main thread, which zeroes it before each batch) counts the items of the
 * current batch that are done, so that a worker stopped mid-batch gives
 * back only the others.
 */
export async function drainWorker(
  asks: Queue<number>,
  batches: Queue<unknown[]>,
  failures: Queue<[unknown, unknown]>,
  spec: TaskSpec,
  up: Int32Array | undefined,
  finished: Int32Array | undefined,
): Promise<number> {
  const fn = await load(spec);
  if (up) Atomics.store(up, 0, 1); // no failed start (src/shapes/workers.ts)
  let handled = 0;
  for (;;) {
    await asks.put(handled);
    const msg = await batches.get();
    if (msg.kind === END) return handled;
    for (const item of msg.data) {
      try {
        await fn(item);
      } catch (error) {
        await failures.put([item, errorToData(explain(error, spec))]);
      }
      handled++;
      if (finished) Atomics.add(finished, 0, 1);
    }
  }
}

/**
 * The feeder's reader worker: runs `context()` once (then raises `up`),
 * then `reader(item, context)` for each `[id, item]`; reports each outcome
 * as `[id, ok, value or error]` on `outcomes`; returns after `maxJobs`
 * items so that a fresh worker replaces it.
 */
export async function feederWorker(
  items: Queue<[id: number, item: unknown]>,
  outcomes: Queue<[id: number, ok: boolean, value: unknown]>,
  reader: TaskSpec,
  context: TaskSpec | undefined,
  maxJobs: number,
  up: Int32Array | undefined,
): Promise<number> {
  const read = await load(reader);
  const ctx = context ? await (await load(context))() : undefined;
  if (up) Atomics.store(up, 0, 1); // no failed start (src/shapes/workers.ts)
  let jobs = 0;
  for await (const msg of iterMsg(items)) {
    const [id, item] = msg.data;
    try {
      const value = await read(item, ctx);
      await outcomes.put([id, true, value]);
    } catch (error) {
      await outcomes.put([id, false, errorToData(explain(error, reader))]);
    }
    if (++jobs >= maxJobs) break;
  }
  return jobs;
}

/**
 * The worker side of the higher-level shapes (map, ProcessQueue): built-in
 * module tasks that load the user's task and drive it.
 * @module
 */
import { END, iterMsg, Msg, type Queue } from "../../mod.ts";
import { errorToData } from "../errors.ts";
import { type LogLevel, setLogSink } from "../log.ts";
import type { TaskSpec } from "../task.ts";
import { findUncloneable } from "../wire.ts";
import { explain, load } from "./load.ts";

/** Inputs for a map worker: the first input's offset and the inputs from there on. */
export type MapChunk = [start: number, inputs: unknown[]];
/**
 * Results of a chunk: its start, the values (a failed input's slot is
 * empty), and the failures as [index in the chunk, error as data].
 */
export type MapResults = [
  start: number,
  values: unknown[],
  failures: [number, unknown][],
];

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
 * (shared with the main thread) holds the offset in progress and when it
 * started, for per-input timeouts.
 */
export async function mapWorker(
  inputs: Queue<MapChunk>,
  results: Queue<unknown>,
  spec: TaskSpec,
  shared: unknown,
  maxTasks: number,
  index: number,
  clock: Float64Array | undefined,
): Promise<number> {
  const fn = await load(spec);
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
      if (clock) {
        clock[1] = Date.now();
        clock[0] = offset;
      }
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
      if (clock) clock[0] = -1;
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
 */
export async function drainWorker(
  asks: Queue<number>,
  batches: Queue<unknown[]>,
  failures: Queue<[unknown, unknown]>,
  spec: TaskSpec,
): Promise<number> {
  const fn = await load(spec);
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
    }
  }
}

/**
 * The feeder's reader worker: runs `context()` once, then `reader(item,
 * context)` for each item; reports each outcome on `outcomes`; returns
 * after `maxJobs` items so that a fresh worker replaces it.
 */
export async function feederWorker(
  items: Queue<unknown>,
  outcomes: Queue<[ok: boolean, item: unknown, error: unknown]>,
  reader: TaskSpec,
  context: TaskSpec | undefined,
  maxJobs: number,
): Promise<number> {
  const read = await load(reader);
  const ctx = context ? await (await load(context))() : undefined;
  let jobs = 0;
  for await (const msg of iterMsg(items)) {
    try {
      const value = await read(msg.data, ctx);
      await outcomes.put([true, undefined, value]);
    } catch (error) {
      await outcomes.put([
        false,
        msg.data,
        errorToData(explain(error, reader)),
      ]);
    }
    if (++jobs >= maxJobs) break;
  }
  return jobs;
}

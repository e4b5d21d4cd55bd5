// The measurements shared by the benchmarks: the runtime's ceiling (bare
// postMessage on workq's own runtime adapter), workq through its public API,
// and the plumbing to run a measurement in a fresh process of the same runtime.
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { endq, endqAndWait, iterMsg, map, Queue, run, task } from "../mod.ts";
import type { WorkerHandle } from "../mod.ts";
import { runtime } from "../src/runtime/mod.ts";
import type { WorkerPort } from "../src/runtime/mod.ts";
import { median } from "./report.ts";

type Tasks = typeof import("./tasks.ts");
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
/** The module of workq's benchmark tasks. */
export const tasks: URL = new URL(`./tasks${ext}`, import.meta.url);
const rawUrl = new URL(`./raw_worker${ext}`, import.meta.url);

/** Runs `fn` `repeats` times, one after the other; the median. */
export async function repeat(
  repeats: number,
  fn: () => Promise<number>,
): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < repeats; i++) values.push(await fn());
  return median(values);
}

/** Bare workers on the adapter, each up (one round trip done). */
export interface RawWorkers {
  workers: WorkerPort[];
  inbox: ((data: unknown) => void)[];
}

/** Spawns `n` raw workers and waits for one round trip through each. */
export function spawnRaw(n: number): Promise<RawWorkers> {
  const inbox: ((data: unknown) => void)[] = [];
  const workers: WorkerPort[] = [];
  for (let i = 0; i < n; i++) {
    const worker = runtime.spawn(rawUrl, `raw-${i}`, {
      error: (e) => console.error(e),
      unloaded: (e) => console.error(e),
      exit: () => {},
    });
    worker.listen((data) => inbox[i](data));
    workers.push(worker);
  }
  return Promise.all(workers.map((w, i) =>
    new Promise<void>((resolve) => {
      inbox[i] = () => resolve();
      w.post({ t: "one", v: 0 });
    })
  )).then(() => ({ workers, inbox }));
}

/** Stops raw workers. */
export async function stopRaw(raw: RawWorkers): Promise<void> {
  await Promise.all(raw.workers.map((w) => w.terminate()));
}

/**
 * Items sent through a flow before it is timed, on every side alike: the
 * code on both ends is compiled and the workers' queues are in use, so that
 * the figure is the flow's steady pace, not its first 100k items' start.
 */
export const WARM_ITEMS = 100_000;

/** Items per second through `workers` raw workers, `batch` items per message. */
export async function rawThroughput(
  items: number,
  workers: number,
  batch: number,
): Promise<number> {
  const raw = await spawnRaw(workers);
  await rawPass(raw, WARM_ITEMS, workers, batch);
  const started = performance.now();
  await rawPass(raw, items, workers, batch);
  const elapsed = performance.now() - started;
  await stopRaw(raw);
  return items / (elapsed / 1000);
}

function rawPass(
  raw: RawWorkers,
  items: number,
  workers: number,
  batch: number,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let got = 0;
    for (let i = 0; i < workers; i++) {
      raw.inbox[i] = (data) => {
        const m = data as { batch?: number[] };
        got += m.batch ? m.batch.length : 1;
        if (got === items) resolve();
      };
    }
    for (let i = 0, w = 0; i < items; i += batch, w = (w + 1) % workers) {
      if (batch === 1) raw.workers[w].post({ t: "one", v: i });
      else {
        raw.workers[w].post({
          t: "batch",
          batch: Array.from(
            { length: Math.min(batch, items - i) },
            (_, k) => i + k,
          ),
        });
      }
    }
  });
}

/**
 * Times one x + 1 flow through workq: `start` starts each of `workers`
 * workers between a Queue in and a Queue out, `pass` puts `n` items and
 * returns the results' sum; a warm-up pass first, then the timed one.
 * Items per second; throws when the sum is wrong.
 */
async function incFlow(
  name: string,
  items: number,
  workers: number,
  start: (inQ: Queue<number>, outQ: Queue<number>) => WorkerHandle<unknown>,
  pass: (inQ: Queue<number>, outQ: Queue<number>, n: number) => Promise<number>,
): Promise<number> {
  const inQ = new Queue<number>();
  const outQ = new Queue<number>();
  const handles = Array.from({ length: workers }, () => start(inQ, outQ));
  await pass(inQ, outQ, WARM_ITEMS);
  const started = performance.now();
  const check = await pass(inQ, outQ, items);
  const elapsed = performance.now() - started;
  await endqAndWait(inQ, handles);
  const want = items * (items + 1) / 2;
  if (check !== want) {
    throw new Error(`workq ${name}: results add up to ${check}, not ${want}`);
  }
  return items / (elapsed / 1000);
}

/**
 * Items per second through workq: a Queue in, a Queue out, `workers` workers
 * putting x + 1; all items put, then all results taken.
 */
export function workqThroughput(
  items: number,
  workers: number,
): Promise<number> {
  return incFlow(
    "inc",
    items,
    workers,
    (inQ, outQ) => run(task<Tasks, "inc">(tasks, "inc"), inQ, outQ),
    async (inQ, outQ, n) => {
      for (let i = 0; i < n; i++) await inQ.put(i);
      let check = 0;
      for (let i = 0; i < n; i++) check += (await outQ.get()).data;
      return check;
    },
  );
}

/**
 * The same flow with the batch API, `batch` items at a time both ways: the
 * main thread puts with `putMany` and reads with `getMany`, the workers read
 * with `iterBatches` and put with `putMany`.
 */
export function workqBatchThroughput(
  items: number,
  workers: number,
  batch: number,
): Promise<number> {
  return incFlow(
    "incBatches",
    items,
    workers,
    (inQ, outQ) =>
      run(task<Tasks, "incBatches">(tasks, "incBatches"), inQ, outQ, batch),
    async (inQ, outQ, n) => {
      for (let i = 0; i < n; i += batch) {
        const chunk: number[] = [];
        for (let k = i; k < i + batch && k < n; k++) chunk.push(k);
        await inQ.putMany(chunk);
      }
      let check = 0;
      for (let got = 0; got < n;) {
        const msgs = await outQ.getMany({ max: batch });
        for (const msg of msgs) check += msg.data;
        got += msgs.length;
      }
      return check;
    },
  );
}

/**
 * Issue 17's target 2 flow: `workers` workers put `items` numbers in all,
 * one awaited put each, into a queue of `maxsize` (0: unbounded) that the
 * main thread drains; items/s from the go to the last item drained. Throws
 * when the queue ever held more than its bound.
 */
export async function boundedFlow(
  items: number,
  workers: number,
  maxsize: number,
): Promise<number> {
  const goQ = new Queue<number>();
  const outQ = new Queue<number>({ maxsize });
  const each = items / workers;
  const handles = Array.from(
    { length: workers },
    () => run(task<Tasks, "produce">(tasks, "produce"), goQ, outQ, each),
  );
  const started = performance.now();
  for (let i = 0; i < workers; i++) await goQ.put(i);
  let peak = 0;
  for (let i = 0; i < items; i++) {
    await outQ.get();
    if (outQ.size > peak) peak = outQ.size;
  }
  const elapsed = performance.now() - started;
  if (maxsize > 0 && peak > maxsize) {
    throw new Error(`bounded queue held ${peak} items, above ${maxsize}`);
  }
  await endqAndWait(goQ, handles);
  return items / (elapsed / 1000);
}

/**
 * W1 through `map` (workq's "submit all, collect all results" call, like
 * `Pool.map`): `items` inputs x -> x + 1 on `workers` workers; tasks/s,
 * end to end (the workers are started by the call).
 */
export async function workqMap(
  items: number,
  workers: number,
): Promise<number> {
  const inputs = Array.from({ length: items }, (_, i) => i);
  const started = performance.now();
  const results = await map(task<Tasks, "one">(tasks, "one"), inputs, {
    concurrency: workers,
  });
  const elapsed = performance.now() - started;
  let check = 0;
  for (const r of results) check += r;
  const want = items * (items + 1) / 2;
  if (check !== want) {
    throw new Error(`workq map: results add up to ${check}, not ${want}`);
  }
  return items / (elapsed / 1000);
}

/**
 * ezq's sum through a Queue, end to end as the Python figure is: start the
 * workers, put every item, end the queue, wait, add up the partial sums (ms).
 */
export async function workqSum(
  items: number,
  workers: number,
): Promise<number> {
  const started = performance.now();
  const inQ = new Queue<number>();
  const outQ = new Queue<number>();
  const handles = Array.from(
    { length: workers },
    () => run(task<Tasks, "sum">(tasks, "sum"), inQ, outQ),
  );
  for (let i = 0; i < items; i++) await inQ.put(i);
  await endqAndWait(inQ, handles);
  await endq(outQ);
  let total = 0;
  for await (const msg of iterMsg(outQ)) total += msg.data;
  const elapsed = performance.now() - started;
  const want = items * (items - 1) / 2;
  if (total !== want) {
    throw new Error(`workq sum: ${total}, not ${want}`);
  }
  return elapsed;
}

/**
 * ezq's sum written on raw postMessage with batching, end to end as
 * {@linkcode workqSum} is (the workers start inside the timing): `items`
 * numbers round robin to `workers` raw workers, 64 per message, then each
 * sends its total back (ms).
 */
export async function rawSum(items: number, workers: number): Promise<number> {
  const started = performance.now();
  const raw = await spawnRaw(workers);
  const totals = Promise.all(
    raw.workers.map((_, i) =>
      new Promise<number>((resolve) => {
        raw.inbox[i] = (data) => resolve((data as { v: number }).v);
      })
    ),
  );
  for (let i = 0, w = 0; i < items; i += 64, w = (w + 1) % workers) {
    const batch: number[] = [];
    for (let k = i; k < i + 64 && k < items; k++) batch.push(k);
    raw.workers[w].post({ t: "sumBatch", batch });
  }
  for (const worker of raw.workers) worker.post({ t: "sumEnd" });
  const total = (await totals).reduce((a, b) => a + b, 0);
  const elapsed = performance.now() - started;
  await stopRaw(raw);
  const want = items * (items - 1) / 2;
  if (total !== want) throw new Error(`raw sum: ${total}, not ${want}`);
  return elapsed;
}

/**
 * Wall time (ms) of `count` CPU-bound tasks of `n` rounds on `workers`
 * workq workers, already started and warmed.
 */
export async function workqSpin(
  count: number,
  n: number,
  workers: number,
): Promise<number> {
  const inQ = new Queue<number>();
  const outQ = new Queue<number>();
  const handles = Array.from(
    { length: workers },
    () => run(task<Tasks, "spinEach">(tasks, "spinEach"), inQ, outQ),
  );
  for (let i = 0; i < workers * 4; i++) await inQ.put(n >> 4);
  for (let i = 0; i < workers * 4; i++) await outQ.get();
  const started = performance.now();
  for (let i = 0; i < count; i++) await inQ.put(n);
  for (let i = 0; i < count; i++) await outQ.get();
  const elapsed = performance.now() - started;
  await endqAndWait(inQ, handles);
  return elapsed;
}

/** The same CPU-bound tasks on raw workers, sent round robin as they free up. */
export async function rawSpin(
  count: number,
  n: number,
  workers: number,
): Promise<number> {
  const raw = await spawnRaw(workers);
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let sent = 0;
    let got = 0;
    for (let w = 0; w < workers; w++) {
      raw.inbox[w] = () => {
        got++;
        if (got === count) resolve();
        else if (sent < count) {
          sent++;
          raw.workers[w].post({ t: "spin", v: n });
        }
      };
      if (sent < count) {
        sent++;
        raw.workers[w].post({ t: "spin", v: n });
      }
    }
  });
  const elapsed = performance.now() - started;
  await stopRaw(raw);
  return elapsed;
}

/** Round trip (µs, median of `pings`) of one item through a raw worker. */
export async function rawLatency(pings: number): Promise<number> {
  const raw = await spawnRaw(1);
  const times: number[] = [];
  for (let i = 0; i < pings; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      raw.inbox[0] = () => resolve();
      raw.workers[0].post({ t: "one", v: i });
    });
    times.push(performance.now() - t0);
  }
  await stopRaw(raw);
  return median(times) * 1000;
}

/** Round trip (µs, median of `pings`) of one item through a workq worker. */
export async function workqLatency(pings: number): Promise<number> {
  const inQ = new Queue<number>();
  const outQ = new Queue<number>();
  const worker = run(task<Tasks, "inc">(tasks, "inc"), inQ, outQ);
  await inQ.put(0);
  await outQ.get();
  const times: number[] = [];
  for (let i = 0; i < pings; i++) {
    const t0 = performance.now();
    await inQ.put(i);
    await outQ.get();
    times.push(performance.now() - t0);
  }
  await endqAndWait(inQ, worker);
  return median(times) * 1000;
}

/** A buffer of `bytes` to a raw worker and back, moved or copied (ms). */
export async function rawBig(bytes: number, move: boolean): Promise<number> {
  const raw = await spawnRaw(1);
  const buffer = new ArrayBuffer(bytes);
  const t0 = performance.now();
  const back = await new Promise<ArrayBuffer>((resolve) => {
    raw.inbox[0] = (data) => resolve((data as { b: ArrayBuffer }).b);
    raw.workers[0].post(
      { t: move ? "move" : "copy", b: buffer },
      move ? [buffer] : [],
    );
  });
  const elapsed = performance.now() - t0;
  if (back.byteLength !== bytes) throw new Error("raw: buffer not whole");
  await stopRaw(raw);
  return elapsed;
}

/** A buffer of `bytes` to a workq worker and back, moved or copied (ms). */
export async function workqBig(bytes: number, move: boolean): Promise<number> {
  const inQ = new Queue<ArrayBuffer>();
  const outQ = new Queue<ArrayBuffer>();
  const worker = run(task<Tasks, "bounce">(tasks, "bounce"), inQ, outQ, move);
  const small = new ArrayBuffer(8);
  await inQ.put(small, { transfer: [small] });
  await outQ.get();
  const buffer = new ArrayBuffer(bytes);
  const t0 = performance.now();
  await inQ.put(buffer, move ? { transfer: [buffer] } : {});
  const back = await outQ.get();
  const elapsed = performance.now() - t0;
  if (back.data.byteLength !== bytes) {
    throw new Error("workq: the buffer did not come back whole");
  }
  await endqAndWait(inQ, worker);
  return elapsed;
}

/** What a child process printed, and how it ended. */
export interface ChildResult {
  status: "ok" | "hangs" | "fails";
  /** Parsed `RESULT {json}` lines, in order. */
  results: Record<string, unknown>[];
  /** The last lines of stderr, when it failed. */
  detail: string;
}

/** Prints one result line for the parent (see {@link runChild}). */
export function emit(result: Record<string, unknown>): void {
  console.log(`RESULT ${JSON.stringify(result)}`);
}

/** The Deno flags every benchmark file needs (see each file's header). */
export const DENO_FLAGS: string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
];

/** Whether this is Deno. */
export const isDeno: boolean =
  (globalThis as { Deno?: unknown }).Deno !== undefined;

/**
 * The command that runs a benchmark file in a fresh process of this runtime;
 * `denoFlags` are added on Deno only.
 */
export function selfCommand(
  file: URL,
  args: string[],
  denoFlags: string[] = [],
): [string, string[]] {
  const path = fileURLToPath(file);
  return [
    process.execPath,
    isDeno
      ? ["run", ...DENO_FLAGS, ...denoFlags, path, ...args]
      : [path, ...args],
  ];
}

/**
 * Runs a child process; `RESULT {json}` lines on its stdout are results. It
 * "hangs" when it prints no result for `quietMs` (or runs past `totalMs`),
 * and is then killed; it "fails" when it exits non-zero.
 */
export function runChild(
  command: string,
  args: string[],
  { quietMs = 20_000, totalMs = 600_000, onResult }: {
    quietMs?: number;
    totalMs?: number;
    onResult?: (r: Record<string, unknown>) => void;
  } = {},
): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    const results: Record<string, unknown>[] = [];
    let out = "";
    let err = "";
    let hung = false;
    let quiet: ReturnType<typeof setTimeout>;
    const kill = () => {
      hung = true;
      child.kill("SIGKILL");
    };
    const arm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(kill, quietMs);
    };
    const total = setTimeout(kill, totalMs);
    arm();
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      let nl;
      while ((nl = out.indexOf("\n")) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.startsWith("RESULT ")) {
          const r = JSON.parse(line.slice(7)) as Record<string, unknown>;
          results.push(r);
          onResult?.(r);
          arm();
        }
      }
    });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      err = (err + chunk).slice(-4000);
    });
    let done = false;
    const finish = (status: ChildResult["status"]) => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      clearTimeout(total);
      resolve({
        status,
        results,
        detail: err.trim().split("\n").slice(-6).join("\n"),
      });
    };
    child.on("error", (error) => {
      err += String(error);
      finish("fails"); // it could not start
    });
    child.on("close", (code) => {
      finish(hung ? "hangs" : code === 0 ? "ok" : "fails");
    });
  });
}

/** The resident set size of this process, in bytes. */
export function rss(): number {
  return process.memoryUsage().rss;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

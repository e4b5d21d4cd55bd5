/**
 * The core benchmark: workq beside the bare postMessage of the same runtime,
 * measured in one run, medians of repeats.
 *
 *   deno run --allow-read --allow-write --allow-env bench/core_bench.ts
 *   bun bench/core_bench.ts
 *   node bench/core_bench.ts
 *
 * Prints a markdown table and writes bench/results/core-<runtime>.json.
 */
import { endqAndWait, Queue, run, task } from "../mod.ts";
import { runtime } from "../src/runtime/mod.ts";
import type { WorkerPort } from "../src/runtime/mod.ts";
import { label, median, report, type Row } from "./report.ts";

type Tasks = typeof import("./tasks.ts");
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const tasks = new URL(`./tasks${ext}`, import.meta.url);
const rawUrl = new URL(`./raw_worker${ext}`, import.meta.url);

const REPEATS = 5;
const ITEMS = 100_000;
const WORKERS = 2;
const PINGS = 500;
const BIG = 64 * 1024 * 1024;

function spawnRaw(
  n: number,
): Promise<{ workers: WorkerPort[]; inbox: ((data: unknown) => void)[] }> {
  const inbox: ((data: unknown) => void)[] = [];
  const workers: WorkerPort[] = [];
  for (let i = 0; i < n; i++) {
    const worker = runtime.spawn(rawUrl, `raw-${i}`, {
      error: (e) => console.error(e),
      exit: () => {},
    });
    worker.listen((data) => inbox[i](data));
    workers.push(worker);
  }
  // One round trip each, so that every worker is up before timing.
  return Promise.all(workers.map((w, i) =>
    new Promise<void>((resolve) => {
      inbox[i] = () => resolve();
      w.post({ t: "one", v: 0 });
    })
  )).then(() => ({ workers, inbox }));
}

async function rawThroughput(batch: number): Promise<number> {
  const { workers, inbox } = await spawnRaw(WORKERS);
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let got = 0;
    for (let i = 0; i < WORKERS; i++) {
      inbox[i] = (data) => {
        const m = data as { batch?: number[] };
        got += m.batch ? m.batch.length : 1;
        if (got === ITEMS) resolve();
      };
    }
    for (let i = 0, w = 0; i < ITEMS; i += batch, w = (w + 1) % WORKERS) {
      if (batch === 1) workers[w].post({ t: "one", v: i });
      else {workers[w].post({
          t: "batch",
          batch: Array.from(
            { length: Math.min(batch, ITEMS - i) },
            (_, k) => i + k,
          ),
        });}
    }
  });
  const elapsed = performance.now() - started;
  await Promise.all(workers.map((w) => w.terminate()));
  return ITEMS / (elapsed / 1000);
}

async function workqThroughput(): Promise<number> {
  const inQ = new Queue<number>();
  const outQ = new Queue<number>();
  const workers = Array.from(
    { length: WORKERS },
    () => run(task<Tasks, "inc">(tasks, "inc"), inQ, outQ),
  );
  // Warm: one item through each worker before timing, as for the raw figure.
  await inQ.put(0);
  await outQ.get();
  const started = performance.now();
  for (let i = 0; i < ITEMS; i++) await inQ.put(i);
  for (let i = 0; i < ITEMS; i++) await outQ.get();
  const elapsed = performance.now() - started;
  await endqAndWait(inQ, workers);
  return ITEMS / (elapsed / 1000);
}

async function rawLatency(): Promise<number> {
  const { workers, inbox } = await spawnRaw(1);
  const times: number[] = [];
  for (let i = 0; i < PINGS; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      inbox[0] = () => resolve();
      workers[0].post({ t: "one", v: i });
    });
    times.push(performance.now() - t0);
  }
  await workers[0].terminate();
  return median(times) * 1000;
}

async function workqLatency(): Promise<number> {
  const inQ = new Queue<number>();
  const outQ = new Queue<number>();
  const worker = run(task<Tasks, "inc">(tasks, "inc"), inQ, outQ);
  await inQ.put(0);
  await outQ.get();
  const times: number[] = [];
  for (let i = 0; i < PINGS; i++) {
    const t0 = performance.now();
    await inQ.put(i);
    await outQ.get();
    times.push(performance.now() - t0);
  }
  await endqAndWait(inQ, worker);
  return median(times) * 1000;
}

async function rawBig(move: boolean): Promise<number> {
  const { workers, inbox } = await spawnRaw(1);
  const buffer = new ArrayBuffer(BIG);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    inbox[0] = () => resolve();
    workers[0].post(
      { t: move ? "move" : "copy", b: buffer },
      move ? [buffer] : [],
    );
  });
  const elapsed = performance.now() - t0;
  await workers[0].terminate();
  return elapsed;
}

async function workqBig(move: boolean): Promise<number> {
  const inQ = new Queue<ArrayBuffer>();
  const outQ = new Queue<ArrayBuffer>();
  const worker = run(task<Tasks, "bounce">(tasks, "bounce"), inQ, outQ, move);
  const small = new ArrayBuffer(8);
  await inQ.put(small, { transfer: [small] });
  await outQ.get();
  const buffer = new ArrayBuffer(BIG);
  const t0 = performance.now();
  await inQ.put(buffer, move ? { transfer: [buffer] } : {});
  const back = await outQ.get();
  const elapsed = performance.now() - t0;
  if (back.data.byteLength !== BIG) {
    throw new Error("the buffer did not come back whole");
  }
  await endqAndWait(inQ, worker);
  return elapsed;
}

async function repeat(fn: () => Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < REPEATS; i++) values.push(await fn());
  return median(values);
}

const rows: Row[] = [];
const raw1 = await repeat(() => rawThroughput(1));
const raw64 = await repeat(() => rawThroughput(64));
const wq = await repeat(workqThroughput);
rows.push({
  what: `${ITEMS / 1000}k tiny items to ${WORKERS} workers and back`,
  unit: "items/s",
  raw: raw1,
  raw2: raw64,
  workq: wq,
  better: "higher",
});
const rawLat = await repeat(rawLatency);
const wqLat = await repeat(workqLatency);
rows.push({
  what: "round trip, one item (median)",
  unit: "µs",
  raw: rawLat,
  workq: wqLat,
  better: "lower",
});
const rawMove = await repeat(() => rawBig(true));
const rawCopy = await repeat(() => rawBig(false));
const wqMove = await repeat(() => workqBig(true));
const wqCopy = await repeat(() => workqBig(false));
rows.push({
  what: "64 MiB round trip, transferred",
  unit: "ms",
  raw: rawMove,
  workq: wqMove,
  better: "lower",
});
rows.push({
  what: "64 MiB round trip, copied",
  unit: "ms",
  raw: rawCopy,
  workq: wqCopy,
  better: "lower",
});

await report("core", rows, {
  note: `raw = bare postMessage on the same adapter (1 item per message` +
    `; second figure: 64 per message). ${label()}; median of ${REPEATS}.`,
});

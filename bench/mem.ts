/**
 * One memory measurement, in a fresh process (started by bench/suite.ts, once
 * per repeat), with `process.memoryUsage().rss`:
 *
 *   node bench/mem.ts idle-raw <workers>     RSS per idle raw worker
 *   node bench/mem.ts idle-workq <workers>   RSS per idle workq worker
 *   node bench/mem.ts flow <items> <maxsize> [both]
 *                                            peak RSS while items flow
 *   node bench/mem.ts bounded <items> <maxsize>
 *                                            peak RSS of issue 17's target 2
 *                                            flow (workers put into a bounded
 *                                            queue, see lib.ts boundedFlow)
 *   bun bench/mem.ts ...
 *   deno run --allow-read --allow-write --allow-env --allow-run --allow-sys bench/mem.ts ...
 *
 * Idle: both modes load workq and the adapter, measure RSS, start the workers
 * (raw: one round trip each; workq: each puts "ready" and then waits on an
 * empty queue), settle 500 ms, measure again; prints the delta per worker.
 * Flow: x -> x + 1 through 2 workq workers, the work queue bounded to
 * `maxsize` (and the results' queue too with `both`), the main thread putting
 * and taking at once; RSS sampled every 5 ms.
 */
import process from "node:process";
import { endqAndWait, Queue, run, task } from "../mod.ts";
import {
  boundedFlow,
  emit,
  rss,
  sleep,
  spawnRaw,
  stopRaw,
  tasks,
} from "./lib.ts";

type Tasks = typeof import("./tasks.ts");
const [mode, a, b, c] = process.argv.slice(2);

async function settledRss(): Promise<number> {
  await sleep(500);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rss());
    await sleep(20);
  }
  return Math.min(...samples);
}

if (mode === "idle-raw" || mode === "idle-workq") {
  const n = Number(a);
  const before = await settledRss();
  let after: number;
  if (mode === "idle-raw") {
    const raw = await spawnRaw(n);
    after = await settledRss();
    await stopRaw(raw);
  } else {
    const inQ = new Queue<number>();
    const readyQ = new Queue<number>();
    const workers = Array.from(
      { length: n },
      () => run(task<Tasks, "idle">(tasks, "idle"), inQ, readyQ),
    );
    for (let i = 0; i < n; i++) await readyQ.get();
    after = await settledRss();
    await endqAndWait(inQ, workers);
  }
  emit({ perWorker: (after - before) / n, before, after });
} else if (mode === "flow") {
  const items = Number(a);
  const maxsize = Number(b);
  const before = await settledRss();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 5);
  const started = performance.now();
  const inQ = new Queue<number>({ maxsize });
  // The results' queue is bounded too with "both"; otherwise it is unbounded
  // and drained as fast as it fills.
  const outQ = new Queue<number>(c === "both" ? { maxsize } : {});
  const workers = Array.from(
    { length: 2 },
    () => run(task<Tasks, "inc">(tasks, "inc"), inQ, outQ),
  );
  const produce = async () => {
    for (let i = 0; i < items; i++) await inQ.put(i);
  };
  const consume = async () => {
    let check = 0;
    for (let i = 0; i < items; i++) check += (await outQ.get()).data;
    return check;
  };
  const [, check] = await Promise.all([produce(), consume()]);
  await endqAndWait(inQ, workers);
  const ms = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, rss());
  const want = items * (items + 1) / 2;
  if (check !== want) throw new Error(`flow: ${check}, not ${want}`);
  emit({ peak, before, ms });
} else if (mode === "bounded") {
  const before = await settledRss();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 5);
  const perSecond = await boundedFlow(Number(a), 2, Number(b));
  clearInterval(sampler);
  peak = Math.max(peak, rss());
  emit({ peak, before, perSecond });
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.exit(0);

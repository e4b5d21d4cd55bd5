/**
 * Workers putting into a bounded queue against the same flow unbounded:
 * 2 workers put 100k numbers in all, one awaited put each, into a queue the
 * main thread drains; medians of repeats, both in one run.
 *
 *   deno run --allow-read --allow-write --allow-env bench/bounded_bench.ts
 *   bun bench/bounded_bench.ts
 *   node bench/bounded_bench.ts
 *
 * Prints a markdown table and writes bench/results/bounded-<runtime>.json.
 */
import process from "node:process";
import { endqAndWait, Queue, run, task } from "../mod.ts";
import { repeat, tasks } from "./lib.ts";
import { report } from "./report.ts";

type Tasks = typeof import("./tasks.ts");

const REPEATS = 5;
const ITEMS = 100_000;
const WORKERS = 2;
const MAXSIZE = 1000;

/** Items/s from the go to the last item drained; checks the size bound. */
async function flow(maxsize: number): Promise<number> {
  const goQ = new Queue<number>();
  const outQ = new Queue<number>({ maxsize });
  const each = ITEMS / WORKERS;
  const handles = Array.from(
    { length: WORKERS },
    () => run(task<Tasks, "produce">(tasks, "produce"), goQ, outQ, each),
  );
  const started = performance.now();
  for (let i = 0; i < WORKERS; i++) await goQ.put(i);
  let peak = 0;
  for (let i = 0; i < ITEMS; i++) {
    await outQ.get();
    if (outQ.size > peak) peak = outQ.size;
  }
  const elapsed = performance.now() - started;
  if (maxsize > 0 && peak > maxsize) {
    throw new Error(`bounded queue held ${peak} items, above ${maxsize}`);
  }
  await endqAndWait(goQ, handles);
  return ITEMS / (elapsed / 1000);
}

const rssBefore = process.memoryUsage().rss;
const unbounded = await repeat(REPEATS, () => flow(0));
const bounded = await repeat(REPEATS, () => flow(MAXSIZE));
const rssAfter = process.memoryUsage().rss;
await report("bounded", [{
  what: `${ITEMS / 1000}k puts from ${WORKERS} workers, maxsize ${MAXSIZE}`,
  unit: "items/s",
  raw: unbounded,
  workq: bounded,
  better: "higher",
}], {
  note: `"raw runtime" is the same flow into an unbounded queue; ` +
    `the target is bounded / unbounded >= 0.5. RSS ${
      (rssBefore / 2 ** 20).toFixed(0)
    } -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB.`,
});

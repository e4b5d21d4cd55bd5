/**
 * Issue 17's target 2: workers putting into a bounded queue against the
 * same flow unbounded (2 workers put 100k numbers in all, one awaited put
 * each, into a queue the main thread drains; medians of repeats, both in
 * one run), and memory: the peak RSS of 2M items through the bounded flow
 * against 200k, each in a fresh process (bench/mem.ts bounded).
 *
 *   deno run --allow-read --allow-write --allow-env --allow-run bench/bounded_bench.ts
 *   bun bench/bounded_bench.ts
 *   node bench/bounded_bench.ts
 *
 * Prints a markdown table and writes bench/results/bounded-<runtime>.json.
 */
import { boundedFlow, repeat, runChild, selfCommand } from "./lib.ts";
import { median, report } from "./report.ts";

const REPEATS = 5;
const MEM_REPEATS = 3;
const ITEMS = 100_000;
const WORKERS = 2;
const MAXSIZE = 1000;
const SMALL = 200_000;
const BIG = 2_000_000;
const MiB = 2 ** 20;

/** The median peak RSS (bytes) of `items` through the bounded flow, a fresh process each. */
async function peakRss(items: number): Promise<number> {
  const [cmd, args] = selfCommand(new URL("./mem.ts", import.meta.url), [
    "bounded",
    String(items),
    String(MAXSIZE),
  ]);
  const peaks: number[] = [];
  for (let i = 0; i < MEM_REPEATS; i++) {
    const child = await runChild(cmd, args, { quietMs: 300_000 });
    if (child.status !== "ok" || child.results.length === 0) {
      throw new Error(
        `mem.ts bounded ${items}: ${child.status}\n${child.detail}`,
      );
    }
    peaks.push(child.results[0].peak as number);
  }
  return median(peaks);
}

const unbounded = await repeat(REPEATS, () => boundedFlow(ITEMS, WORKERS, 0));
const bounded = await repeat(
  REPEATS,
  () => boundedFlow(ITEMS, WORKERS, MAXSIZE),
);
const small = await peakRss(SMALL);
const big = await peakRss(BIG);
await report("bounded", [{
  what: `${ITEMS / 1000}k puts from ${WORKERS} workers, maxsize ${MAXSIZE}`,
  unit: "items/s",
  raw: unbounded,
  workq: bounded,
  better: "higher",
}, {
  what: `peak RSS, ${SMALL / 1000}k / ${BIG / 1e6}M items, maxsize ${MAXSIZE}`,
  unit: "MiB",
  raw: small / MiB,
  workq: big / MiB,
  better: "lower",
}], {
  note: `"raw runtime" is the same flow into an unbounded queue (first ` +
    `row; target bounded / unbounded >= 0.5) and the peak RSS of ` +
    `${SMALL / 1000}k items (second row; target ${BIG / 1e6}M / ` +
    `${SMALL / 1000}k < 1.5), each peak the median of ${MEM_REPEATS} fresh ` +
    `processes.`,
});

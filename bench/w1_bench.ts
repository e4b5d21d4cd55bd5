/**
 * Target 1 of issue 17 on its own: 100k tiny items x -> x + 1 through a
 * Queue to 2 workers and back, against the raw batched ceiling (64 items per
 * postMessage) in the same rounds: one awaited put per item (ezq's example),
 * and the batch API (putMany and getMany / iterBatches, 64 at a time).
 *
 *   node bench/w1_bench.ts
 *   bun bench/w1_bench.ts
 *   deno run --allow-read --allow-write --allow-env bench/w1_bench.ts
 *
 * Prints a markdown table of medians and the ratios per round.
 */
import { rawThroughput, workqBatchThroughput, workqThroughput } from "./lib.ts";
import { median, runtimeName } from "./report.ts";

const REPEATS = Number(
  (globalThis as { process?: { env: Record<string, string> } }).process?.env
    .WORKQ_BENCH_REPEATS ?? 5,
);
const ITEMS = 100_000;
const WORKERS = 2;

const fns = {
  raw64: () => rawThroughput(ITEMS, WORKERS, 64),
  perPut: () => workqThroughput(ITEMS, WORKERS),
  batch64: () => workqBatchThroughput(ITEMS, WORKERS, 64),
};
type Key = keyof typeof fns;
const rounds = Object.fromEntries(
  Object.keys(fns).map((k) => [k, [] as number[]]),
) as Record<Key, number[]>;
for (let i = 0; i < REPEATS; i++) {
  for (const k of Object.keys(fns) as Key[]) rounds[k].push(await fns[k]());
}
const ratio = (k: Key) => median(rounds[k].map((v, i) => v / rounds.raw64[i]));
const fmt = (n: number) => `${(n / 1000).toFixed(0)}k`;
console.log(`### W1, ${runtimeName()}, median of ${REPEATS}\n`);
console.log("| flow | items/s | / raw 64 per msg |\n|---|---|---|");
for (const k of Object.keys(fns) as Key[]) {
  console.log(
    `| ${k} | ${fmt(median(rounds[k]))} | ${(ratio(k) * 100).toFixed(0)}% |`,
  );
}

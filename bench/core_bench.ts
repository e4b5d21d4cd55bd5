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
import {
  rawBig,
  rawLatency,
  rawThroughput,
  repeat,
  workqBig,
  workqLatency,
  workqThroughput,
} from "./lib.ts";
import { label, report, type Row } from "./report.ts";

const REPEATS = 5;
const ITEMS = 100_000;
const WORKERS = 2;
const PINGS = 500;
const BIG = 64 * 1024 * 1024;

const rows: Row[] = [];
const raw1 = await repeat(REPEATS, () => rawThroughput(ITEMS, WORKERS, 1));
const raw64 = await repeat(REPEATS, () => rawThroughput(ITEMS, WORKERS, 64));
const wq = await repeat(REPEATS, () => workqThroughput(ITEMS, WORKERS));
rows.push({
  what: `${ITEMS / 1000}k tiny items to ${WORKERS} workers and back`,
  unit: "items/s",
  raw: raw1,
  raw2: raw64,
  workq: wq,
  better: "higher",
});
const rawLat = await repeat(REPEATS, () => rawLatency(PINGS));
const wqLat = await repeat(REPEATS, () => workqLatency(PINGS));
rows.push({
  what: "round trip, one item (median)",
  unit: "µs",
  raw: rawLat,
  workq: wqLat,
  better: "lower",
});
const rawMove = await repeat(REPEATS, () => rawBig(BIG, true));
const rawCopy = await repeat(REPEATS, () => rawBig(BIG, false));
const wqMove = await repeat(REPEATS, () => workqBig(BIG, true));
const wqCopy = await repeat(REPEATS, () => workqBig(BIG, false));
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

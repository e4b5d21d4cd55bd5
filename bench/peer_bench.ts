/**
 * One peer pool's throughput figures, in a process of its own (started by
 * bench/suite.ts, which kills it when it hangs):
 *
 *   node bench/peer_bench.ts <peer> <items> <tasks> <spinRounds> <repeats>
 *   bun bench/peer_bench.ts ...
 *   deno run --allow-read --allow-write --allow-env --allow-run --allow-sys bench/peer_bench.ts ...
 *
 * Prints `RESULT {json}` lines: one per repeat of each workload; each W2
 * repeat also times the same tasks on one thread, just before, for its ideal.
 */
import process from "node:process";
import { emit } from "./lib.ts";
import { makePool, type PeerName, type Pool } from "./peers.ts";
import { spin } from "./work.ts";

const [name, items, count, rounds, repeats] = process.argv.slice(2);
const ITEMS = Number(items);
const TASKS = Number(count);
const N = Number(rounds);
const REPEATS = Number(repeats);
const WORKERS = 2;

// poolifier on Node lets the event loop go idle (and the process exit with
// tasks pending) now and then; a timer keeps every peer's process alive.
setInterval(() => {}, 1000);

async function warm(pool: Pool): Promise<void> {
  const warmUp: Promise<number>[] = [];
  for (let i = 0; i < WORKERS * 4; i++) warmUp.push(pool.run({ spin: N >> 4 }));
  for (let i = 0; i < WORKERS * 4; i++) warmUp.push(pool.run(i));
  await Promise.all(warmUp);
}

/** W1: every tiny task submitted, then every result awaited (tasks/s). */
async function tiny(): Promise<number> {
  const pool = makePool(name as PeerName, WORKERS);
  await warm(pool);
  const started = performance.now();
  const pending: Promise<number>[] = new Array(ITEMS);
  for (let i = 0; i < ITEMS; i++) pending[i] = pool.run(i);
  const results = await Promise.all(pending);
  const elapsed = performance.now() - started;
  await pool.close();
  if (results[ITEMS - 1] !== ITEMS) throw new Error(`${name}: wrong result`);
  return ITEMS / (elapsed / 1000);
}

/** The same tasks on this thread, timed just before each W2 repeat (ms). */
function single(): number {
  const started = performance.now();
  for (let i = 0; i < TASKS; i++) spin(N);
  return performance.now() - started;
}

/** W2: CPU-bound tasks, all submitted at once (wall ms). */
async function cpu(): Promise<number> {
  const pool = makePool(name as PeerName, WORKERS);
  await warm(pool);
  const started = performance.now();
  const pending: Promise<number>[] = [];
  for (let i = 0; i < TASKS; i++) pending.push(pool.run({ spin: N }));
  await Promise.all(pending);
  const elapsed = performance.now() - started;
  await pool.close();
  return elapsed;
}

for (let i = 0; i < REPEATS; i++) emit({ w: "w1", value: await tiny() });
for (let i = 0; i < 20; i++) spin(N >> 4); // let the JIT settle
for (let i = 0; i < REPEATS; i++) {
  emit({ w: "w2", single: single(), value: await cpu() });
}
process.exit(0);

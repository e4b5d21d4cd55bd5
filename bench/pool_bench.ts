/**
 * Issue 15's Pool targets, all in one run of one runtime, medians of repeats
 * on warm pools (each side warmed before it is timed):
 *
 *   node bench/pool_bench.ts
 *   bun bench/pool_bench.ts
 *   deno run --allow-read --allow-write --allow-env --allow-run --allow-sys bench/pool_bench.ts
 *
 * 1. 100k tiny tasks (x -> x + 1) submitted at once, all awaited: Pool.run
 *    against piscina's run and poolifier's execute (each in a child process
 *    of the same runtime, as bench/suite.ts runs them; "n/a" where one does
 *    not run).
 * 2. One awaited tiny Pool.run at a time: p50 latency against a bare
 *    postMessage round trip (bench/raw_worker.ts).
 * 3. Pool.map over 100k tiny inputs against Python's warm Pool(2).map.
 * 4. 200 CPU tasks of 5 ms: the pool's efficiency (speed-up / workers)
 *    against raw workers' in the same rounds.
 *
 * Prints a markdown table and writes bench/results/pool-<runtime>.json.
 * POOL_BENCH_REPEATS (default 5) sets the repeats.
 */
import process from "node:process";
import { Pool, task } from "../mod.ts";
import { emit, rawLatency, rawSpin, runChild, selfCommand } from "./lib.ts";
import { makePool, type PeerName, peersInstalled } from "./peers.ts";
import { median, runtimeName } from "./report.ts";
import { spin } from "./work.ts";

type Work = typeof import("./work.ts");
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const job = task<Work, "job">(new URL(`./work${ext}`, import.meta.url), "job");

const REPEATS = Number(process.env.POOL_BENCH_REPEATS ?? 5);
const ITEMS = 100_000;
const WORKERS = 2;
const PINGS = 2000;
const CPU_TASKS = 200;
const TASK_MS = 5;

/** Tasks/s of `ITEMS` tiny runs submitted at once, all awaited. */
async function burst(run: (i: number) => Promise<number>): Promise<number> {
  const started = performance.now();
  const pending: Promise<number>[] = new Array(ITEMS);
  for (let i = 0; i < ITEMS; i++) pending[i] = run(i);
  const results = await Promise.all(pending);
  const elapsed = performance.now() - started;
  if (results[ITEMS - 1] !== ITEMS) throw new Error("wrong result");
  return ITEMS / (elapsed / 1000);
}

// A child: one peer's figure for target 1, one RESULT line per repeat.
if (process.argv[2] === "peer") {
  setInterval(() => {}, 1000); // see peer_bench.ts: poolifier lets go
  const pool = makePool(process.argv[3] as PeerName, WORKERS);
  const warm: Promise<number>[] = [];
  for (let i = 0; i < 10_000; i++) warm.push(pool.run(i));
  await Promise.all(warm);
  for (let i = 0; i < REPEATS; i++) {
    emit({ value: await burst((j) => pool.run(j)) });
  }
  await pool.close();
  process.exit(0);
}

const log = (what: string) => console.error(`[${runtimeName()}] ${what}`);
const pool = new Pool({ minWorkers: WORKERS, maxWorkers: WORKERS });
const warm = () => burst((i) => pool.run(job, i));
await warm();
await pool.map(job, Array.from({ length: 1000 }, (_, i) => i));

// ------------------------------------------------------------- 1. burst
log("1. 100k tiny tasks at once");
const ours: number[] = [];
for (let i = 0; i < REPEATS; i++) ours.push(await warm());
const peers: Record<string, number | string> = {};
for (const name of ["piscina", "poolifier"] as const) {
  if (!peersInstalled()) {
    peers[name] = "missing";
    continue;
  }
  log(`1. ${name}`);
  const [cmd, args] = selfCommand(
    new URL(import.meta.url),
    ["peer", name],
    ["--unstable-detect-cjs"],
  );
  const child = await runChild(cmd, args, { quietMs: 60_000 });
  peers[name] = child.status === "ok"
    ? median(child.results.map((r) => r.value as number))
    : child.status;
}

// ----------------------------------------------------------- 2. latency
log("2. one awaited task at a time");
const rawP50: number[] = [];
const poolP50: number[] = [];
for (let r = 0; r < REPEATS; r++) {
  rawP50.push(await rawLatency(PINGS));
  const times: number[] = [];
  for (let i = 0; i < PINGS; i++) {
    const t0 = performance.now();
    await pool.run(job, i);
    times.push(performance.now() - t0);
  }
  poolP50.push(median(times) * 1000);
}

// --------------------------------------------------------------- 3. map
log("3. pool.map over 100k inputs");
const inputs = Array.from({ length: ITEMS }, (_, i) => i);
// Full-size maps first, as Python's pool gets: on a fresh pool Deno's maps
// of 100k took 27-87 ms (median 35), after 500k runs 17-36 ms (median 21).
for (let i = 0; i < 3; i++) await pool.map(job, inputs);
const maps: number[] = [];
for (let i = 0; i < REPEATS; i++) {
  const t0 = performance.now();
  const out = await pool.map(job, inputs);
  maps.push(ITEMS / ((performance.now() - t0) / 1000));
  if (out[ITEMS - 1] !== ITEMS) throw new Error("map: wrong result");
}
const script = new URL("./python/mp_bench.py", import.meta.url);
const py = await runChild(
  "python3",
  [decodeURIComponent(script.pathname), String(REPEATS), "pool_map"],
  { quietMs: 120_000 },
);
const pyMap = py.status === "ok"
  ? py.results[0].pool_map_per_s as number
  : py.status;

// --------------------------------------------------------------- 4. cpu
log("4. 200 CPU tasks of 5 ms");
function timeSpin(n: number): number {
  const t: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    spin(n);
    t.push(performance.now() - t0);
  }
  return median(t);
}
for (let i = 0; i < 20; i++) spin(200_000); // let the JIT settle
let rounds = 1_000_000;
for (let i = 0; i < 3; i++) {
  rounds = Math.max(1000, Math.round(rounds * TASK_MS / timeSpin(rounds)));
}
const effRaw: number[] = [];
const effPool: number[] = [];
for (let r = 0; r < REPEATS; r++) {
  let t0 = performance.now();
  for (let i = 0; i < CPU_TASKS; i++) spin(rounds);
  const single = performance.now() - t0;
  const raw = await rawSpin(CPU_TASKS, rounds, WORKERS);
  t0 = performance.now();
  await Promise.all(
    Array.from({ length: CPU_TASKS }, () => pool.run(job, { spin: rounds })),
  );
  const ours = performance.now() - t0;
  effRaw.push(100 * single / raw / WORKERS);
  effPool.push(100 * single / ours / WORKERS);
}
await pool.close();

// -------------------------------------------------------------- report
interface Target {
  target: string;
  measured: string;
  goal: string;
  met: boolean | "n/a";
}
const k = (n: number) => `${(n / 1000).toFixed(1)}k/s`;
const ratio = (ours: number, theirs: number | string, goal: number) =>
  typeof theirs === "number"
    ? {
      measured: `${k(ours)} vs ${k(theirs)}: ${(ours / theirs).toFixed(2)}x`,
      met: ours / theirs >= goal,
    }
    : { measured: `${k(ours)} vs ${theirs}`, met: "n/a" as const };
const burstMedian = median(ours);
const latency = median(poolP50) / median(rawP50);
const mapMedian = median(maps);
const gap = median(effRaw) - median(effPool);
const targets: Target[] = [
  {
    target: "1a. 100k tiny run, vs piscina",
    goal: ">= 5x",
    ...ratio(burstMedian, peers.piscina, 5),
  },
  {
    target: "1b. 100k tiny run, vs poolifier",
    goal: ">= 2x",
    ...ratio(burstMedian, peers.poolifier, 2),
  },
  {
    target: "2. one awaited run, p50 vs raw postMessage",
    measured: `${median(poolP50).toFixed(0)} µs vs ${
      median(rawP50).toFixed(0)
    } µs: ${latency.toFixed(2)}x`,
    goal: "<= 1.5x",
    met: latency <= 1.5,
  },
  {
    target: "3. map 100k, vs Python Pool.map",
    goal: ">= 0.5x",
    ...ratio(mapMedian, pyMap, 0.5),
  },
  {
    target: "4. 200 × 5 ms, efficiency vs raw",
    measured: `${median(effPool).toFixed(1)}% vs ${
      median(effRaw).toFixed(1)
    }%: ${gap.toFixed(1)} points below`,
    goal: "<= 1 point below",
    met: gap <= 1,
  },
];
const lines = [
  `### Pool targets: ${runtimeName()} (${WORKERS} workers, medians of ${REPEATS})`,
  "",
  "| target | measured | goal | met |",
  "|---|---|---|---|",
  ...targets.map((t) =>
    `| ${t.target} | ${t.measured} | ${t.goal} | ${
      t.met === "n/a" ? "n/a" : t.met ? "yes" : "no"
    } |`
  ),
];
console.log(lines.join("\n"));
const { mkdir, writeFile } = await import("node:fs/promises");
const dir = new URL("./results/", import.meta.url);
await mkdir(dir, { recursive: true });
await writeFile(
  new URL(`pool-${runtimeName()}.json`, dir),
  JSON.stringify(
    {
      runtime: runtimeName(),
      date: new Date().toISOString(),
      repeats: REPEATS,
      targets,
      samples: { ours, peers, rawP50, poolP50, maps, pyMap, effRaw, effPool },
    },
    null,
    2,
  ),
);
process.exit(0);

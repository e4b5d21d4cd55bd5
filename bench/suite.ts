/**
 * The performance suite (issue 3): workq beside the runtime's own ceiling,
 * the Node worker pools (piscina, tinypool, workerpool, poolifier) and
 * Python's multiprocessing, in ONE run per runtime; each figure is the median
 * of several repeats, and every ratio compares figures of the same run.
 *
 *   node bench/suite.ts
 *   bun bench/suite.ts
 *   deno run --allow-read --allow-write --allow-env --allow-run bench/suite.ts
 *   node scripts/bench.mjs            # all three, installing the peers first
 *
 * Deno: read (worker modules, the peers), write (bench/results/), env and run
 * (child processes: the peers, cold starts, memory, python3). The children it
 * starts get their own flags (see lib.ts: DENO_FLAGS, plus
 * --unstable-detect-cjs for the peers, whose worker files are CommonJS).
 * WORKQ_BENCH_REPEATS=3 makes a quicker run; WORKQ_BENCH_PEERS=0 and
 * WORKQ_BENCH_PYTHON=0 leave those out.
 *
 * Prints two markdown tables (figures, then targets) and writes
 * bench/results/suite-<runtime>.json. The peers need bench/peers/node_modules
 * (`npm install` there, or scripts/bench.mjs); without it they are "missing".
 */
import { mkdir, writeFile } from "node:fs/promises";
import process from "node:process";
import {
  boundedFlow,
  type ChildResult,
  rawBig,
  rawSpin,
  rawSum,
  rawThroughput,
  runChild,
  selfCommand,
  WARM_ITEMS,
  workqBatchThroughput,
  workqBig,
  workqMap,
  workqSpin,
  workqSum,
  workqThroughput,
} from "./lib.ts";
import { type PeerName, PEERS, peersInstalled, peerVersion } from "./peers.ts";
import { label, median, runtimeName } from "./report.ts";
import { spin } from "./work.ts";

const env = process.env;
const REPEATS = Number(env.WORKQ_BENCH_REPEATS ?? 5);
const WITH_PEERS = env.WORKQ_BENCH_PEERS !== "0";
const WITH_PYTHON = env.WORKQ_BENCH_PYTHON !== "0";
const WORKERS = 2;
const ITEMS = 100_000;
const CPU_TASKS = 200;
const TASK_MS = 5;
const BIG = 64 * 1024 * 1024;
const IDLE_WORKERS = 8;
const FLOW_SMALL = 100_000;
const FLOW_BIG = 1_000_000;
const FLOW_MAXSIZE = 1000;
const FLOW_REPEATS = Math.min(REPEATS, 3);
const BATCH = 64; // the batch API's batches (issue 17: measured in 64s)
const T2_SMALL = 200_000;
const T2_BIG = 2_000_000;
const SCALE_SMALL = 10_000; // issue 17 target 6: per-item cost across sizes
const SCALE_BIG = 1_000_000;
const QUIET_MS = 20_000; // a child silent this long "hangs"
const STEP_MS = 120_000; // an in-process measurement this long "hangs"
const MEM_QUIET_MS = 120_000; // the same for a memory run (1M items on Deno)
const MiB = 1024 * 1024;

const log = (what: string) => console.error(`[${runtimeName()}] ${what}`);

/** A figure, or why there is none. */
type Figure = number | "hangs" | "fails" | "missing" | "n/a";
const num = (f: Figure | undefined): number | undefined =>
  typeof f === "number" ? f : undefined;

// ---------------------------------------------------------------- calibrate
function timeSpin(n: number, times: number): number {
  const t: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    spin(n);
    t.push(performance.now() - t0);
  }
  return median(t);
}
log("calibrating the 5 ms task");
for (let i = 0; i < 20; i++) spin(200_000); // let the JIT settle
let spinRounds = 1_000_000;
for (let i = 0; i < 3; i++) {
  spinRounds = Math.max(
    1000,
    Math.round(spinRounds * TASK_MS / timeSpin(spinRounds, 9)),
  );
}
const taskMs = timeSpin(spinRounds, 15);

// ---------------------------------------------------------- W1..W3, in here
// The machine is shared: every round runs each contender once, one after the
// other, so that a busy spell hits them alike; figures are medians over the
// rounds, and a target's ratio is the median of the ratios of each round.
// A measurement that gives nothing for STEP_MS "hangs": it counts as NaN
// (shown "hangs"), is logged, and is not run again; the suite goes on.
type Rounds<K extends string> = Record<K, number[]>;
const hung: string[] = [];
async function interleave<K extends string>(
  group: string,
  fns: Record<K, () => Promise<number>>,
): Promise<Rounds<K>> {
  const keys = Object.keys(fns) as K[];
  const out = Object.fromEntries(keys.map((k) => [k, []])) as unknown as Rounds<
    K
  >;
  const stuck = new Set<K>();
  for (let i = 0; i < REPEATS; i++) {
    for (const k of keys) {
      if (stuck.has(k)) {
        out[k].push(NaN);
        continue;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const value = await Promise.race([
        fns[k](),
        new Promise<number>((resolve) => {
          timer = setTimeout(() => resolve(NaN), STEP_MS);
        }),
      ]);
      clearTimeout(timer);
      if (Number.isNaN(value)) {
        stuck.add(k);
        hung.push(`${group} ${k} (round ${i + 1})`);
        log(`${group} ${k}: no result in ${STEP_MS / 1000} s, round ${i + 1}`);
      }
      out[k].push(value);
    }
  }
  return out;
}
/** The median of the values that are numbers; NaN when none is. */
function med(values: number[]): number {
  const ok = values.filter((v) => !Number.isNaN(v));
  return ok.length ? median(ok) : NaN;
}
/** The median over the rounds of `f(round)`. */
function perRound<K extends string>(
  r: Rounds<K>,
  f: (at: (k: K) => number) => number,
): number {
  const n = (Object.values(r) as number[][])[0].length;
  return med(Array.from({ length: n }, (_, i) => f((k) => r[k][i])));
}

log("W1 raw ceiling (1 and 64 items per message), workq, ezq's sum");
const w1 = await interleave("W1", {
  raw1: () => rawThroughput(ITEMS, WORKERS, 1),
  raw64: () => rawThroughput(ITEMS, WORKERS, 64),
  workq: () => workqThroughput(ITEMS, WORKERS),
  batch: () => workqBatchThroughput(ITEMS, WORKERS, BATCH),
  map: () => workqMap(ITEMS, WORKERS),
  sum: () => workqSum(ITEMS, WORKERS),
  rawSum: () => rawSum(ITEMS, WORKERS),
});
const raw1 = med(w1.raw1);
const raw64 = med(w1.raw64);
const wqTiny = med(w1.workq);
const wqMap = med(w1.map);
const wqSum = med(w1.sum);
const wqBatch = med(w1.batch);

log("issue 17 target 2: workers put into a bounded queue, and unbounded");
const t2 = await interleave("T2", {
  unbounded: () => boundedFlow(ITEMS, WORKERS, 0),
  bounded: () => boundedFlow(ITEMS, WORKERS, FLOW_MAXSIZE),
});

log("issue 17 target 6: time per item at 10k and 1M items (one put each)");
const t6 = await interleave("T6", {
  small: () => workqThroughput(SCALE_SMALL, WORKERS),
  big: () => workqThroughput(SCALE_BIG, WORKERS),
});

log("W2 single thread, raw and workq");
const w2 = await interleave("W2", {
  single: () => {
    const t0 = performance.now();
    for (let i = 0; i < CPU_TASKS; i++) spin(spinRounds);
    return Promise.resolve(performance.now() - t0);
  },
  raw: () => rawSpin(CPU_TASKS, spinRounds, WORKERS),
  workq: () => workqSpin(CPU_TASKS, spinRounds, WORKERS),
});
const single = med(w2.single);
const ideal = single / WORKERS;
const rawCpu = med(w2.raw);
const wqCpu = med(w2.workq);
/** Speed-up against the ideal, per round. */
const efficiency = (k: "raw" | "workq") =>
  perRound(w2, (at) => at("single") / WORKERS / at(k));

log("W3 64 MiB round trips");
const w3 = await interleave("W3", {
  rawMove: () => rawBig(BIG, true),
  workqMove: () => workqBig(BIG, true),
  rawCopy: () => rawBig(BIG, false),
  workqCopy: () => workqBig(BIG, false),
});
const rawMove = med(w3.rawMove);
const rawCopy = med(w3.rawCopy);
const wqMove = med(w3.workqMove);
const wqCopy = med(w3.workqCopy);

// ------------------------------------------------------- children: the peers
interface PeerFigures {
  version: string;
  status: ChildResult["status"] | "missing";
  detail: string;
  /** Where it hung or failed. */
  where?: string;
  w1: Figure;
  w2: Figure;
  /** W2 speed-up against the ideal, per repeat (the child times one thread too). */
  w2Efficiency: Figure;
  cold: Figure;
}
const peers = new Map<PeerName, PeerFigures>();
const haveAllPeers = WITH_PEERS && peersInstalled();
if (WITH_PEERS && !haveAllPeers) {
  log("peers missing: npm install in bench/peers (scripts/bench.mjs does it)");
}
for (const name of WITH_PEERS ? PEERS : []) {
  const figures: PeerFigures = {
    version: "",
    status: "missing",
    detail: "",
    w1: "missing",
    w2: "missing",
    w2Efficiency: "missing",
    cold: "missing",
  };
  peers.set(name, figures);
  if (!haveAllPeers) continue;
  figures.version = peerVersion(name);
  log(`W1, W2 ${name} ${figures.version}`);
  const [cmd, args] = selfCommand(
    new URL("./peer_bench.ts", import.meta.url),
    [
      name,
      String(ITEMS),
      String(CPU_TASKS),
      String(spinRounds),
      String(REPEATS),
    ],
    ["--unstable-detect-cjs"],
  );
  const child = await runChild(cmd, args, { quietMs: QUIET_MS });
  figures.status = child.status;
  figures.detail = child.detail;
  if (child.status !== "ok") {
    const done1 = child.results.filter((r) => r.w === "w1").length;
    const done2 = child.results.filter((r) => r.w === "w2").length;
    figures.where = done1 < REPEATS
      ? `W1, repeat ${done1 + 1}`
      : `W2, repeat ${done2 + 1}`;
  }
  const of = (w: string): Figure => {
    const values = child.results.filter((r) => r.w === w).map((r) =>
      r.value as number
    );
    if (values.length === REPEATS) return median(values);
    return child.status === "ok" ? "fails" : child.status;
  };
  figures.w1 = of("w1");
  figures.w2 = of("w2");
  if (typeof figures.w2 === "number") {
    figures.w2Efficiency = median(
      child.results.filter((r) => r.w === "w2").map((r) =>
        (r.single as number) / WORKERS / (r.value as number)
      ),
    );
  } else figures.w2Efficiency = figures.w2;
  if (child.status !== "ok") log(`${name}: ${child.status}\n${child.detail}`);
}

// ------------------------------------------------ children: W4, cold starts
/** Runs a child `times` times; the median of field `key`, or why not. */
async function children(
  file: string,
  args: string[],
  key: string,
  times: number,
  { quietMs = QUIET_MS, denoFlags = [] }: {
    quietMs?: number;
    denoFlags?: string[];
  } = {},
): Promise<{ value: Figure; results: Record<string, unknown>[] }> {
  const [cmd, fullArgs] = selfCommand(
    new URL(file, import.meta.url),
    args,
    denoFlags,
  );
  const results: Record<string, unknown>[] = [];
  for (let i = 0; i < times; i++) {
    const child = await runChild(cmd, fullArgs, { quietMs });
    if (child.status !== "ok" || child.results.length === 0) {
      log(`${file} ${args.join(" ")}: ${child.status}\n${child.detail}`);
      return {
        value: child.status === "ok" ? "fails" : child.status,
        results,
      };
    }
    results.push(child.results[0]);
  }
  return {
    value: median(results.map((r) => r[key] as number)),
    results,
  };
}

log("W4 cold starts");
const coldRaw = await children("./cold.ts", ["raw"], "ms", REPEATS);
const coldWq = await children("./cold.ts", ["workq"], "ms", REPEATS);
for (const [name, figures] of peers) {
  if (figures.status === "missing") continue;
  figures.cold = (await children(
    "./cold.ts",
    [name],
    "ms",
    REPEATS,
    { denoFlags: ["--unstable-detect-cjs"] },
  )).value;
}

// --------------------------------------------------- children: W5, memory
log("W5 idle workers");
// Every memory figure comes from its own child, started after a quiet spell.
const memory = (args: (string | number)[], key: string, repeats: number) =>
  children("./mem.ts", args.map(String), key, repeats, {
    quietMs: MEM_QUIET_MS,
  });
const idleRaw = await memory(["idle-raw", IDLE_WORKERS], "perWorker", REPEATS);
const idleWq = await memory(
  ["idle-workq", IDLE_WORKERS],
  "perWorker",
  REPEATS,
);
log("W5 peak RSS of 100k and 1M items through a bounded queue");
const flowSmall = await memory(
  ["flow", FLOW_SMALL, FLOW_MAXSIZE],
  "peak",
  FLOW_REPEATS,
);
const flowBig = await memory(
  ["flow", FLOW_BIG, FLOW_MAXSIZE],
  "peak",
  FLOW_REPEATS,
);
log("issue 17 target 2: peak RSS of 200k and 2M items put by workers");
const t2Small = await memory(
  ["bounded", T2_SMALL, FLOW_MAXSIZE],
  "peak",
  FLOW_REPEATS,
);
const t2Big = await memory(
  ["bounded", T2_BIG, FLOW_MAXSIZE],
  "peak",
  FLOW_REPEATS,
);
log("(info) 100k items through queues bounded both ways");
const flowBoth = await memory(
  ["flow", FLOW_SMALL, FLOW_MAXSIZE, "both"],
  "ms",
  1,
);
const flowRate = (f: { results: Record<string, unknown>[] }, items: number) =>
  f.results.length
    ? items / (median(f.results.map((r) => r.ms as number)) / 1000)
    : undefined;

// ------------------------------------------------------ children: Python
interface PythonFigures {
  status: ChildResult["status"] | "skipped";
  detail: string;
  python?: string;
  queue_sum_ms?: number;
  pool_map_per_s?: number;
  pool_tasks_per_s?: number;
}
let py: PythonFigures = { status: "skipped", detail: "" };
if (WITH_PYTHON) {
  log("Python multiprocessing (python3 bench/python/mp_bench.py)");
  const script = new URL("./python/mp_bench.py", import.meta.url);
  const child = await runChild(
    "python3",
    [decodeURIComponent(script.pathname), String(REPEATS)],
    { quietMs: 600_000 },
  );
  py = { status: child.status, detail: child.detail, ...child.results[0] };
  if (child.status !== "ok") log(`python3: ${child.status}\n${child.detail}`);
}

// ----------------------------------------------------------------- tables
function fmt(n: number | undefined, digits = 3): string {
  if (n === undefined) return "";
  if (Number.isNaN(n)) return "hangs"; // see interleave
  if (!Number.isFinite(n)) return "";
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 10_000) return `${(n / 1000).toFixed(0)}k`;
  if (n >= 100) return n.toFixed(0);
  return n.toPrecision(digits);
}
const cell = (f: Figure | undefined, show = (n: number) => fmt(n)) =>
  f === undefined ? "" : typeof f === "number" ? show(f) : f;
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const mib = (n: number) => (n / MiB).toFixed(1);
const cpuCell = (ms: Figure | undefined, eff: Figure | undefined) =>
  typeof ms === "number" && typeof eff === "number"
    ? `${fmt(ms)} (${pct(eff)})`
    : cell(ms);

const peerNames = [...peers.keys()];
const head = [
  "workload",
  "unit",
  "raw runtime",
  "workq",
  ...peerNames.map((p) => `${p} ${peers.get(p)!.version}`),
  `python ${py.python ?? "mp"}`,
];
const table: string[][] = [];
const row = (
  what: string,
  unit: string,
  raw: string,
  workq: string,
  peer: (f: PeerFigures) => string = () => "",
  python = "",
) =>
  table.push([
    what,
    unit,
    raw,
    workq,
    ...peerNames.map((p) => peer(peers.get(p)!)),
    python,
  ]);

row(
  `W1 ${ITEMS / 1000}k tiny tasks x -> x + 1, ${WORKERS} workers`,
  "tasks/s",
  `${fmt(raw1)} / ${fmt(raw64)} (1 / 64 per msg)`,
  fmt(wqTiny),
  (p) => cell(p.w1),
  py.pool_tasks_per_s === undefined
    ? py.status
    : `${fmt(py.pool_tasks_per_s)} (apply_async) / ${
      fmt(py.pool_map_per_s)
    } (Pool.map)`,
);
row(
  `W1 the same with the batch API: putMany / getMany / iterBatches, ${BATCH} at a time`,
  "tasks/s",
  "",
  fmt(wqBatch),
);
row(
  `W1 the same through map(), end to end (workers started by the call)`,
  "tasks/s",
  "",
  fmt(wqMap),
  () => "",
  py.pool_map_per_s === undefined
    ? py.status
    : `${fmt(py.pool_map_per_s)} (Pool.map)`,
);
row(
  `ezq's sum through a Queue, ${ITEMS / 1000}k items, end to end`,
  "ms",
  "",
  fmt(wqSum),
  () => "",
  py.queue_sum_ms === undefined
    ? py.status
    : `${fmt(py.queue_sum_ms)} (mp.Queue)`,
);
row(
  `W2 ${CPU_TASKS} CPU tasks of ${taskMs.toFixed(2)} ms; single thread ${
    fmt(single)
  } ms, ideal ${fmt(ideal)} ms`,
  "ms (% of ideal)",
  cpuCell(rawCpu, efficiency("raw")),
  cpuCell(wqCpu, efficiency("workq")),
  (p) => cpuCell(p.w2, p.w2Efficiency),
);
row("W3 64 MiB round trip, transferred", "ms", fmt(rawMove), fmt(wqMove));
row("W3 64 MiB round trip, copied", "ms", fmt(rawCopy), fmt(wqCopy));
row(
  "W4 cold start: nothing to first result",
  "ms",
  cell(coldRaw.value),
  cell(coldWq.value),
  (p) => cell(p.cold),
);
row(
  `W5 RSS per idle worker (${IDLE_WORKERS} workers)`,
  "MiB",
  cell(idleRaw.value, mib),
  cell(idleWq.value, mib),
);
row(
  `W5 peak RSS, ${FLOW_SMALL / 1000}k / ${
    FLOW_BIG / 1e6
  }M items through a queue of maxsize ${FLOW_MAXSIZE}`,
  "MiB",
  "",
  `${cell(flowSmall.value, mib)} / ${cell(flowBig.value, mib)}`,
);
row(
  `(info) same flow: rate, ${FLOW_SMALL / 1000}k / ${FLOW_BIG / 1e6}M; ${
    FLOW_SMALL / 1000
  }k with the results' queue bounded too`,
  "items/s",
  "",
  `${fmt(flowRate(flowSmall, FLOW_SMALL))} / ${
    fmt(flowRate(flowBig, FLOW_BIG))
  }; ${fmt(flowRate(flowBoth, FLOW_SMALL))}`,
);

// ---------------------------------------------------------------- targets
interface Target {
  target: string;
  measured: string;
  goal: string;
  met: boolean | undefined;
  ratio?: number;
}
const targets: Target[] = [];
const target = (
  name: string,
  ratio: number | undefined,
  show: (r: number) => string,
  goal: string,
  ok: (r: number) => boolean,
) =>
  targets.push({
    target: name,
    ratio,
    measured: ratio === undefined || !Number.isFinite(ratio)
      ? "n/a"
      : show(ratio),
    goal,
    met: ratio === undefined || !Number.isFinite(ratio) ? undefined : ok(ratio),
  });
const times = (r: number) => `${r.toFixed(2)}x`;

// Figures that both the suite's targets and issue 17's rows report.
const coldRatio = num(coldWq.value) && num(coldRaw.value)
  ? num(coldWq.value)! / num(coldRaw.value)!
  : undefined;
const idleExtra =
  num(idleWq.value) !== undefined && num(idleRaw.value) !== undefined
    ? num(idleWq.value)! - num(idleRaw.value)!
    : undefined;
const pythonSum = py.queue_sum_ms === undefined
  ? undefined
  : py.queue_sum_ms / wqSum;
const perPutRaw = perRound(w1, (at) => at("workq") / at("raw64"));
const idleMiB = (d: number) => `${mib(d)} MiB`;

const measuredPeers = peerNames.filter((p) => num(peers.get(p)!.w1));
const fastest =
  measuredPeers.sort((a, b) =>
    num(peers.get(b)!.w1)! - num(peers.get(a)!.w1)!
  )[0];
target(
  `W1 workq / fastest peer${fastest ? ` (${fastest})` : ""}, tasks/s`,
  fastest ? wqTiny / num(peers.get(fastest)!.w1)! : undefined,
  times,
  "≥ 5x",
  (r) => r >= 5,
);
target(
  "W1 workq / raw batched ceiling (64 per msg), tasks/s",
  perPutRaw,
  pct,
  "≥ 50%",
  (r) => r >= 0.5,
);
target(
  `W1 workq map() / fastest peer${fastest ? ` (${fastest})` : ""}, tasks/s`,
  fastest ? wqMap / num(peers.get(fastest)!.w1)! : undefined,
  times,
  "≥ 5x",
  (r) => r >= 5,
);
target(
  "W1 workq map() / raw batched ceiling (64 per msg), tasks/s",
  perRound(w1, (at) => at("map") / at("raw64")),
  pct,
  "≥ 50%",
  (r) => r >= 0.5,
);
target(
  "map() over 100k tiny inputs / Python Pool.map, tasks/s",
  py.pool_map_per_s === undefined ? undefined : wqMap / py.pool_map_per_s,
  pct,
  "≥ 50%",
  (r) => r >= 0.5,
);
target(
  "ezq sum: Python mp.Queue ms / workq ms",
  pythonSum,
  times,
  "≥ 10x",
  (r) => r >= 10,
);
target(
  "W2 workq speed-up / ideal (single / 2)",
  efficiency("workq"),
  pct,
  "≥ 95%",
  (r) => r >= 0.95,
);
target(
  "W3 workq transfer / raw transfer",
  perRound(w3, (at) => at("workqMove") / at("rawMove")),
  (r) => `${r >= 1 ? "+" : ""}${((r - 1) * 100).toFixed(0)}%`,
  "< +10%",
  (r) => r < 1.1,
);
target(
  "W3 workq copy / workq transfer",
  perRound(w3, (at) => at("workqCopy") / at("workqMove")),
  times,
  "≥ 20x",
  (r) => r >= 20,
);
target(
  "W4 workq cold start / raw spawn + round trip",
  coldRatio,
  times,
  "≤ 1.2x",
  (r) => r <= 1.2,
);
target(
  "W5 workq idle worker - raw idle worker",
  idleExtra,
  idleMiB,
  "≤ 2 MiB",
  (d) => d <= 2 * MiB,
);
target(
  "W5 peak RSS 1M items / 100k items",
  num(flowBig.value) && num(flowSmall.value)
    ? num(flowBig.value)! / num(flowSmall.value)!
    : undefined,
  times,
  "< 2x",
  (r) => r < 2,
);

// Issue 17's targets, each on its own row: measured, goal, met.
const issue17: Target[] = [];
const goal17 = (
  name: string,
  ratio: number | undefined,
  show: (r: number) => string,
  goal: string,
  ok: (r: number) => boolean,
) => {
  target(name, ratio, show, goal, ok);
  issue17.push(targets.pop()!);
};
const notMeasured = (name: string, goal: string, why: string) =>
  issue17.push({
    target: name,
    measured: `not measured (${why})`,
    goal,
    met: undefined,
  });
goal17(
  `1 batch API (${BATCH} per putMany / getMany) / raw batched ceiling (64 per msg)`,
  perRound(w1, (at) => at("batch") / at("raw64")),
  pct,
  "≥ 50%",
  (r) => r >= 0.5,
);
goal17(
  "1 one awaited put per item / raw batched ceiling (64 per msg)",
  perPutRaw,
  pct,
  "≥ 25%",
  (r) => r >= 0.25,
);
goal17(
  `2 workers' puts into maxsize ${FLOW_MAXSIZE} / the same unbounded`,
  perRound(t2, (at) => at("bounded") / at("unbounded")),
  pct,
  "≥ 50%",
  (r) => r >= 0.5,
);
goal17(
  `2 peak RSS, ${T2_BIG / 1e6}M / ${T2_SMALL / 1000}k items of that flow`,
  num(t2Big.value) && num(t2Small.value)
    ? num(t2Big.value)! / num(t2Small.value)!
    : undefined,
  times,
  "< 1.5x",
  (r) => r < 1.5,
);
goal17(
  "3 cold start / raw spawn + round trip",
  coldRatio,
  times,
  "≤ 1.2x",
  (r) => r <= 1.2,
);
goal17(
  `4 ezq's sum, ${
    ITEMS / 1000
  }k items, end to end / the same on raw postMessage (64 per msg)`,
  perRound(w1, (at) => at("sum") / at("rawSum")),
  times,
  "≤ 1.5x",
  (r) => r <= 1.5,
);
goal17(
  "4 (info) ezq's sum: Python mp.Queue ms / workq ms",
  pythonSum,
  times,
  "(reported)",
  () => true,
);
notMeasured(
  "5 Redis: ezq's sum / raw pipelined Streams ceiling; / BullMQ; round trip",
  "≥ 50%; ≥ 8x; ≤ 1.5x",
  "see bench/redis_bench.ts",
);
goal17(
  `6 time per item, ${SCALE_BIG / 1e6}M / ${
    SCALE_SMALL / 1000
  }k items (one awaited put each)`,
  // Rates are items per second: time per item is their inverse.
  perRound(t6, (at) => at("small") / at("big")),
  times,
  "≤ 1.3x",
  (r) => r <= 1.3,
);
goal17(
  "6 RSS per idle worker - raw",
  idleExtra,
  idleMiB,
  "≤ 2 MiB",
  (d) => d <= 2 * MiB,
);

function markdown(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

const notes: string[] = [];
for (const [name, p] of peers) {
  if (p.status !== "ok" && p.status !== "missing") {
    const first = p.detail.split("\n").find((l) => l.trim()) ?? "";
    notes.push(
      `${name}: ${p.status} in ${p.where}${first ? ` (stderr: ${first})` : ""}`,
    );
  }
}
for (const h of hung) {
  notes.push(
    `workq suite, in process: ${h} gave no result in ${STEP_MS / 1000} s`,
  );
}
if (py.status !== "ok") notes.push(`python3: ${py.status} ${py.detail}`);

console.log(
  [
    `### workq suite: ${label()}`,
    "",
    markdown(head, table),
    "",
    `Median of ${REPEATS} (memory flows: ${FLOW_REPEATS}; cold starts and ` +
    `memory: a fresh process each). ${WORKERS} workers; pools and workers ` +
    `started and warmed before timing, except the ezq sum (end to end, as ` +
    `Python's) and cold starts. Peers: one task per item. "hangs": no result ` +
    `for ${QUIET_MS / 1000} s, killed.`,
    ...notes.map((n) => `- ${n}`),
    "",
    `#### targets: ${runtimeName()}`,
    "",
    markdown(
      ["target", "measured", "goal", "met"],
      targets.map((t) => [
        t.target,
        t.measured,
        t.goal,
        t.met === undefined ? "n/a" : t.met ? "yes" : "**no**",
      ]),
    ),
    "",
    `#### issue 17 targets: ${runtimeName()}`,
    "",
    markdown(
      ["target", "measured", "goal", "met"],
      issue17.map((t) => [
        t.target,
        t.measured,
        t.goal,
        t.met === undefined ? "n/a" : t.met ? "yes" : "**no**",
      ]),
    ),
    "",
    `Target 1: ${ITEMS / 1000}k items after ${WARM_ITEMS / 1000}k warm-up ` +
    `items through the same workers, raw and workq alike. Target 2: ` +
    `${ITEMS / 1000}k items, rounds interleaved; memory: a fresh process ` +
    `each, median of ${FLOW_REPEATS}.`,
    "",
  ].join("\n"),
);

try {
  const dir = new URL("./results/", import.meta.url);
  await mkdir(dir, { recursive: true });
  await writeFile(
    new URL(`suite-${runtimeName()}.json`, dir),
    JSON.stringify(
      {
        runtime: runtimeName(),
        label: label(),
        date: new Date().toISOString(),
        repeats: REPEATS,
        workers: WORKERS,
        calibration: { spinRounds, taskMs },
        w1: {
          items: ITEMS,
          median: {
            raw1,
            raw64,
            workq: wqTiny,
            workqMap: wqMap,
            workqSumMs: wqSum,
          },
          each: w1,
        },
        w2: {
          tasks: CPU_TASKS,
          median: { single, ideal, raw: rawCpu, workq: wqCpu },
          efficiency: { raw: efficiency("raw"), workq: efficiency("workq") },
          each: w2,
        },
        w3: {
          bytes: BIG,
          median: { rawMove, rawCopy, workqMove: wqMove, workqCopy: wqCopy },
          each: w3,
        },
        w4: { raw: coldRaw, workq: coldWq },
        w5: {
          idleWorkers: IDLE_WORKERS,
          idleRaw,
          idleWorkq: idleWq,
          maxsize: FLOW_MAXSIZE,
          flowSmall: { items: FLOW_SMALL, ...flowSmall },
          flowBig: { items: FLOW_BIG, ...flowBig },
          flowBoundedBoth: { items: FLOW_SMALL, ...flowBoth },
        },
        issue17: {
          targets: issue17,
          t2: { items: ITEMS, maxsize: FLOW_MAXSIZE, each: t2 },
          t2Memory: {
            small: { items: T2_SMALL, ...t2Small },
            big: { items: T2_BIG, ...t2Big },
          },
        },
        hung,
        peers: Object.fromEntries(peers),
        python: py,
        targets,
      },
      null,
      2,
    ),
  );
} catch (error) {
  console.error(`(results not written: ${(error as Error).message})`);
}
process.exit(0);

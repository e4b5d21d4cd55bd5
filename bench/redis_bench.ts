/**
 * ezq's sum over Redis with 2 consumer processes, per item (one round trip
 * per put, get and ack) and batched (workq's Redis queue and its worker
 * command), beside the in-process figure (workq with 2 worker threads) and
 * BullMQ (100k tiny jobs: 1 producer adding them with addBulk, 2 worker
 * processes, worker concurrency 1 and 100). Medians of repeats, interleaved,
 * one run, one private redis-server.
 *
 *   node scripts/bench.mjs redis_bench.ts [node24|bun|deno]
 *   deno run --allow-read --allow-env --allow-run --allow-net bench/redis_bench.ts
 *   bun bench/redis_bench.ts
 *   node bench/redis_bench.ts
 *
 * Needs redis-server on PATH, (Node, Bun) ioredis in node_modules, and
 * BullMQ in bench/redis/node_modules (pinned in bench/redis/package.json,
 * a dev-only dependency of this benchmark); scripts/bench.mjs installs all
 * three. Without BullMQ its rows are left out, with a note.
 *
 * workq's puts are durable (each resolves once Redis acknowledged it), fed
 * three ways: one `put()` per item issued together and awaited together
 * (they share pipelines), `putMany()` of 1000 (as BullMQ's addBulk), and
 * one awaited `put()` after the other (a round trip each: 10x fewer items,
 * scaled).
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { Redis } from "ioredis";
import { endqAndWait, iterMsg, Queue, run } from "../mod.ts";
import { closeQueue, endqAndWaitRemote, redisQueue } from "../redis.ts";
import { scriptArgs, startRedis } from "../tests/redis/_server.ts";
import {
  bullmqInstalled,
  bullmqVersion,
  connection,
  loadBullMQ,
} from "./redis/bullmq.ts";

// REDIS_BENCH_ITEMS and REDIS_BENCH_REPEATS shrink it for a quick look.
const REPEATS = Number(process.env.REDIS_BENCH_REPEATS ?? 3);
const ITEMS = Number(process.env.REDIS_BENCH_ITEMS ?? 100_000);
const PER_ITEM = ITEMS / 10; // one round trip each: 10x fewer, same rate
const WORKERS = 2;
const BULLMQ_CONCURRENCY = [1, 100];
const ADD_BULK = 1000; // jobs per addBulk call
const isDeno = "Deno" in globalThis;
const runtimeName = isDeno
  ? `Deno ${
    (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno
      .version.deno
  }`
  : "Bun" in globalThis
  ? `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`
  : `Node ${process.versions.node}`;

// The runtime's command line for one of this folder's scripts.
const script = (path: string, args: string[]) =>
  scriptArgs(new URL(path, import.meta.url), args);

function start(
  args: string[],
): { child: ChildProcess; exit: Promise<number | null> } {
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return {
    child,
    exit: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const expected = (n: number) => (n * (n - 1)) / 2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

let round = 0;

async function inProcess(): Promise<number> {
  const inQ = new Queue<number>();
  const outQ = new Queue<number>();
  const workers = Array.from(
    { length: WORKERS },
    () =>
      run(
        async (inQ: Queue<number>, outQ: Queue<number>) => {
          let sum = 0;
          for await (const msg of iterMsg(inQ)) sum += msg.data;
          await outQ.put(sum);
        },
        inQ,
        outQ,
      ),
  );
  await sleep(300); // threads up before the clock starts
  const t0 = performance.now();
  for (let i = 0; i < ITEMS; i++) await inQ.put(i);
  await endqAndWait(inQ, workers);
  await outQ.end();
  let total = 0;
  for await (const msg of iterMsg(outQ)) total += msg.data;
  const ms = performance.now() - t0;
  if (total !== expected(ITEMS)) throw new Error(`in-process sum ${total}`);
  return ms;
}

async function perItem(url: string): Promise<number> {
  const redis = new Redis(url, { protocol: 2 });
  const inKey = `peritem-in-${++round}`;
  const outKey = `peritem-out-${round}`;
  await redis.xgroup("CREATE", inKey, "workq", "0", "MKSTREAM");
  const workers = Array.from(
    { length: WORKERS },
    () => start(script("./redis/peritem_worker.ts", [url, inKey, outKey])),
  );
  await sleep(isDeno ? 2000 : 1000);
  const t0 = performance.now();
  for (let i = 0; i < PER_ITEM; i++) {
    await redis.xadd(inKey, "*", "n", String(i));
  }
  for (let i = 0; i < WORKERS; i++) await redis.xadd(inKey, "*", "end", "1");
  await Promise.all(workers.map((w) => w.exit));
  const sums = await redis.xrange(outKey, "-", "+");
  const ms = performance.now() - t0;
  const total = sums.reduce((s, [, f]) => s + Number(f[1]), 0);
  if (total !== expected(PER_ITEM)) throw new Error(`per-item sum ${total}`);
  redis.disconnect();
  return ms * (ITEMS / PER_ITEM); // scaled to ITEMS for the table
}

type Feed = "put" | "putMany" | "awaited";

async function batched(url: string, feed: Feed): Promise<number> {
  const items = feed === "awaited" ? PER_ITEM : ITEMS;
  const inName = `batched-in-${++round}`;
  const outName = `batched-out-${round}`;
  const inQ = await redisQueue<number>(url, inName);
  const outQ = await redisQueue<number>(url, outName);
  const workers = Array.from(
    { length: WORKERS },
    () =>
      start(script("../src/redis/worker.ts", [
        "--url",
        url,
        "--queue",
        inName,
        "--results",
        outName,
        "--module",
        new URL("./tasks.ts", import.meta.url).href,
        "--export",
        "sum",
        // The sum is checked: no redelivery when a worker is descheduled.
        "--claim-idle",
        "10000",
      ])),
  );
  await sleep(isDeno ? 2000 : 1000);
  const t0 = performance.now();
  if (feed === "put") {
    const puts: Promise<void>[] = [];
    for (let i = 0; i < items; i++) puts.push(inQ.put(i));
    await Promise.all(puts);
  } else if (feed === "putMany") {
    for (let i = 0; i < items; i += ADD_BULK) {
      const chunk: number[] = [];
      for (let n = i; n < Math.min(i + ADD_BULK, items); n++) chunk.push(n);
      await inQ.putMany(chunk);
    }
  } else {
    for (let i = 0; i < items; i++) await inQ.put(i);
  }
  await endqAndWaitRemote(inQ, WORKERS);
  await outQ.end();
  let total = 0;
  for await (const msg of iterMsg(outQ)) total += msg.data;
  const ms = performance.now() - t0;
  if (total !== expected(items)) throw new Error(`batched sum ${total}`);
  await Promise.all(workers.map((w) => w.exit));
  await closeQueue(inQ);
  await closeQueue(outQ);
  return ms * (ITEMS / items); // scaled to ITEMS for the table
}

// BullMQ: the producer (this process) adds the jobs in bulk; 2 worker
// processes add up `data.n`. The clock stops when no job waits or runs
// (completed jobs are removed, as workq deletes acknowledged entries); the
// workers' totals are checked after.
async function bullmq(url: string, concurrency: number): Promise<number> {
  const { Queue } = loadBullMQ();
  const name = `bullmq-${++round}`;
  const queue = new Queue(name, {
    connection: connection(url),
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  await queue.waitUntilReady();
  const workers = Array.from({ length: WORKERS }, () => {
    const child = spawn(
      process.execPath,
      script("./redis/bullmq_worker.ts", [url, name, String(concurrency)]),
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    return {
      child,
      out: () => out,
      exit: new Promise((resolve) => child.on("exit", resolve)),
    };
  });
  while (!workers.every((w) => w.out().includes("ready"))) await sleep(20);
  const t0 = performance.now();
  for (let i = 0; i < ITEMS; i += ADD_BULK) {
    const jobs = [];
    for (let n = i; n < Math.min(i + ADD_BULK, ITEMS); n++) {
      jobs.push({ name: "sum", data: { n } });
    }
    await queue.addBulk(jobs);
  }
  for (;;) {
    const counts = await queue.getJobCounts(
      "wait",
      "active",
      "delayed",
      "prioritized",
      "paused",
    );
    if (Object.values(counts).every((c) => c === 0)) break;
    await sleep(10);
  }
  const ms = performance.now() - t0;
  for (const w of workers) w.child.stdin!.end();
  await Promise.all(workers.map((w) => w.exit));
  let total = 0;
  let count = 0;
  for (const w of workers) {
    const [t, c] = w.out().trim().split("\n").pop()!.split(" ").map(Number);
    total += t;
    count += c;
  }
  await queue.close();
  if (total !== expected(ITEMS) || count !== ITEMS) {
    throw new Error(`BullMQ sum ${total} over ${count} jobs`);
  }
  return ms;
}

const withBullMQ = bullmqInstalled();
const server = await startRedis();
const times: Record<string, number[]> = {
  inProcess: [],
  perItem: [],
  put: [],
  putMany: [],
  awaited: [],
};
for (const c of BULLMQ_CONCURRENCY) times[`bullmq${c}`] = [];
try {
  // Interleaved, so that a busy spell of the machine hits every contender.
  for (let r = 0; r < REPEATS; r++) {
    times.inProcess.push(await inProcess());
    times.perItem.push(await perItem(server.url));
    for (const feed of ["put", "putMany", "awaited"] as const) {
      times[feed].push(await batched(server.url, feed));
    }
    if (!withBullMQ) continue;
    for (const c of BULLMQ_CONCURRENCY) {
      times[`bullmq${c}`].push(await bullmq(server.url, c));
    }
  }
} finally {
  await server.stop();
}
const perSecond = (ms: number) => ITEMS / ms * 1000;
const bestBullMQ = withBullMQ
  ? Math.max(
    ...BULLMQ_CONCURRENCY.map((c) => perSecond(median(times[`bullmq${c}`]))),
  )
  : NaN;
const row = (label: string, xs: number[]) => {
  const r = perSecond(median(xs));
  const ratio = withBullMQ ? `${(r / bestBullMQ).toFixed(2)}x` : "–";
  return `| ${label} | ${(median(xs) / 1000).toFixed(2)} s | ${
    (r / 1000).toFixed(1)
  }k/s | ${ratio} |`;
};
console.log(
  `\nezq's sum, ${
    ITEMS / 1000
  }k items, 1 producer + ${WORKERS} consumers, ${runtimeName}, median of ${REPEATS}\n`,
);
console.log(
  `| | wall time (${
    ITEMS / 1000
  }k items) | items per second | ÷ BullMQ's best |`,
);
console.log("|---|---|---|---|");
console.log(row("workq in-process (2 worker threads)", times.inProcess));
console.log(
  row(
    `Redis per item: XADD, XREADGROUP COUNT 1, XACK each (2 processes; ${
      PER_ITEM / 1000
    }k items, scaled)`,
    times.perItem,
  ),
);
console.log(
  row(
    "workq over Redis, one put() per item, issued together (2 worker processes)",
    times.put,
  ),
);
console.log(
  row(
    `workq over Redis, putMany() ×${ADD_BULK} (2 worker processes)`,
    times.putMany,
  ),
);
console.log(
  row(
    `workq over Redis, one awaited put() after the other (${
      PER_ITEM / 1000
    }k items, scaled)`,
    times.awaited,
  ),
);
if (withBullMQ) {
  const version = bullmqVersion();
  for (const c of BULLMQ_CONCURRENCY) {
    console.log(
      row(
        `BullMQ ${version}, 2 worker processes, concurrency ${c} (addBulk ×${ADD_BULK})`,
        times[`bullmq${c}`],
      ),
    );
  }
  for (const feed of ["put", "putMany"] as const) {
    const workq = perSecond(median(times[feed]));
    console.log(
      `${
        feed === "put" ? "\n" : ""
      }workq over Redis (${feed}, durable) / BullMQ's best: ${
        (workq / bestBullMQ).toFixed(2)
      }x`,
    );
  }
} else {
  console.log(
    "\nBullMQ rows left out: not installed in bench/redis/node_modules (node scripts/bench.mjs redis_bench.ts installs it)",
  );
}

/**
 * ezq's sum over Redis with 2 consumer processes: raw Streams on the same
 * client (per item: one round trip per XADD, XREADGROUP and XACK; the
 * pipelined ceiling: XADDs pipelined ×1000, XREADGROUP COUNT 64, one XACK
 * per read), workq's Redis queue and its worker command, the in-process
 * figure (workq with 2 worker threads) and BullMQ (100k tiny jobs: 1
 * producer adding them with addBulk, 2 worker processes, worker
 * concurrency 1 and 100); then the round trip p50 of one item at a time,
 * raw and workq, and issue 17's target 5 (measured, goal, met). Medians of
 * repeats, interleaved, one run, one private redis-server.
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
const RAW_COUNT = 64; // the raw ceiling's XREADGROUP COUNT
const SAMPLES = Number(process.env.REDIS_BENCH_SAMPLES ?? 1000);
const WARMUP = 50; // round trips left out of the samples
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

// Raw Streams on the same client, in the same process layout: `count` is
// the consumers' XREADGROUP COUNT; with `pipeline` the producer sends its
// XADDs ADD_BULK to a pipeline (awaited in turn, as putMany() ×ADD_BULK),
// without, one awaited XADD after the other (PER_ITEM items, scaled).
async function rawStreams(
  url: string,
  count: number,
  pipeline: boolean,
): Promise<number> {
  const items = pipeline ? ITEMS : PER_ITEM;
  const redis = new Redis(url, { protocol: 2 });
  const inKey = `raw-in-${++round}`;
  const outKey = `raw-out-${round}`;
  await redis.xgroup("CREATE", inKey, "workq", "0", "MKSTREAM");
  const workers = Array.from(
    { length: WORKERS },
    () =>
      start(
        script("./redis/peritem_worker.ts", [
          url,
          inKey,
          outKey,
          String(count),
        ]),
      ),
  );
  await sleep(isDeno ? 2000 : 1000);
  const t0 = performance.now();
  if (pipeline) {
    for (let i = 0; i < items; i += ADD_BULK) {
      const pipe = redis.pipeline();
      for (let n = i; n < Math.min(i + ADD_BULK, items); n++) {
        pipe.xadd(inKey, "*", "n", String(n));
      }
      await pipe.exec();
    }
  } else {
    for (let i = 0; i < items; i++) {
      await redis.xadd(inKey, "*", "n", String(i));
    }
  }
  for (let i = 0; i < WORKERS; i++) await redis.xadd(inKey, "*", "end", "1");
  await Promise.all(workers.map((w) => w.exit));
  const sums = await redis.xrange(outKey, "-", "+");
  const ms = performance.now() - t0;
  const total = sums.reduce((s, [, f]) => s + Number(f[1]), 0);
  if (total !== expected(items)) throw new Error(`raw sum ${total}`);
  redis.disconnect();
  return ms * (ITEMS / items); // scaled to ITEMS for the table
}

// One item at a time through one stream, in this process, on two
// connections: the consumer's XREADGROUP BLOCK is waiting when the XADD is
// sent; a sample ends when the XACK is answered. Milliseconds each.
async function rawRoundTrips(url: string): Promise<number[]> {
  const producer = new Redis(url, { protocol: 2 });
  const consumer = new Redis(url, { protocol: 2 });
  const key = `raw-rtt-${++round}`;
  await producer.xgroup("CREATE", key, "workq", "0", "MKSTREAM");
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const read = consumer.xreadgroup(
      "GROUP",
      "workq",
      "c",
      "COUNT",
      1,
      "BLOCK",
      1000,
      "STREAMS",
      key,
      ">",
    ) as Promise<[string, [string, string[]][]][] | null>;
    await sleep(0); // the read is at the server, blocked, first
    const t0 = performance.now();
    await producer.xadd(key, "*", "n", String(i));
    const entry = (await read)?.[0]?.[1]?.[0];
    if (!entry || entry[1][1] !== String(i)) {
      throw new Error(`raw round trip ${i} read ${JSON.stringify(entry)}`);
    }
    await consumer.xack(key, "workq", entry[0]);
    if (i >= WARMUP) samples.push(performance.now() - t0);
  }
  producer.disconnect();
  consumer.disconnect();
  return samples;
}

// The same through workq: two handles on one Redis queue in this process
// (each its own connections). The consumer's get() is waiting when the
// put is made; a sample ends when the put has resolved (the item is in
// Redis) and the get has the item. The item is acknowledged, batched, when
// the next get() is asked, as always with workq.
async function workqRoundTrips(url: string): Promise<number[]> {
  const name = `workq-rtt-${++round}`;
  const producer = await redisQueue<number>(url, name);
  const consumer = await redisQueue<number>(url, name);
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const got = consumer.get();
    await sleep(0); // the read is at the server, blocked, first
    const t0 = performance.now();
    const [, n] = await Promise.all([producer.put(i), got]);
    if (n.data !== i) {
      throw new Error(`workq round trip ${i} read ${n.data}`);
    }
    if (i >= WARMUP) samples.push(performance.now() - t0);
  }
  await closeQueue(producer);
  await closeQueue(consumer);
  return samples;
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
  raw: [],
  put: [],
  putMany: [],
  awaited: [],
};
for (const c of BULLMQ_CONCURRENCY) times[`bullmq${c}`] = [];
// Round trip p50s (ms), one per repeat.
const rtt: Record<string, number[]> = { raw: [], workq: [] };
try {
  // Interleaved, so that a busy spell of the machine hits every contender.
  for (let r = 0; r < REPEATS; r++) {
    times.inProcess.push(await inProcess());
    times.perItem.push(await rawStreams(server.url, 1, false));
    times.raw.push(await rawStreams(server.url, RAW_COUNT, true));
    for (const feed of ["put", "putMany", "awaited"] as const) {
      times[feed].push(await batched(server.url, feed));
    }
    rtt.raw.push(median(await rawRoundTrips(server.url)));
    rtt.workq.push(median(await workqRoundTrips(server.url)));
    if (!withBullMQ) continue;
    for (const c of BULLMQ_CONCURRENCY) {
      times[`bullmq${c}`].push(await bullmq(server.url, c));
    }
  }
} finally {
  await server.stop();
}
const perSecond = (ms: number) => ITEMS / ms * 1000;
const rate = (key: string) => perSecond(median(times[key]));
const bestBullMQ = withBullMQ
  ? Math.max(...BULLMQ_CONCURRENCY.map((c) => rate(`bullmq${c}`)))
  : NaN;
const row = (label: string, key: string) => {
  const r = rate(key);
  const ratio = withBullMQ ? `${(r / bestBullMQ).toFixed(2)}x` : "–";
  return `| ${label} | ${(median(times[key]) / 1000).toFixed(2)} s | ${
    (r / 1000).toFixed(1)
  }k/s | ${(r / rate("raw")).toFixed(2)}x | ${ratio} |`;
};
console.log(
  `\nezq's sum, ${
    ITEMS / 1000
  }k items, 1 producer + ${WORKERS} consumers, ${runtimeName}, median of ${REPEATS}\n`,
);
console.log(
  `| | wall time (${
    ITEMS / 1000
  }k items) | items per second | ÷ raw ceiling | ÷ BullMQ's best |`,
);
console.log("|---|---|---|---|---|");
console.log(row("workq in-process (2 worker threads)", "inProcess"));
console.log(
  row(
    `raw Streams per item: XADD awaited, XREADGROUP COUNT 1, XACK each (${
      PER_ITEM / 1000
    }k items, scaled)`,
    "perItem",
  ),
);
console.log(
  row(
    `raw Streams ceiling: pipelined XADD ×${ADD_BULK}, XREADGROUP COUNT ${RAW_COUNT}, batched XACK`,
    "raw",
  ),
);
console.log(
  row(
    "workq over Redis, one put() per item, issued together (2 worker processes)",
    "put",
  ),
);
console.log(
  row(
    `workq over Redis, putMany() ×${ADD_BULK} (2 worker processes)`,
    "putMany",
  ),
);
console.log(
  row(
    `workq over Redis, one awaited put() after the other (${
      PER_ITEM / 1000
    }k items, scaled)`,
    "awaited",
  ),
);
if (withBullMQ) {
  const version = bullmqVersion();
  for (const c of BULLMQ_CONCURRENCY) {
    console.log(
      row(
        `BullMQ ${version}, 2 worker processes, concurrency ${c} (addBulk ×${ADD_BULK})`,
        `bullmq${c}`,
      ),
    );
  }
} else {
  console.log(
    "\nBullMQ rows left out: not installed in bench/redis/node_modules (node scripts/bench.mjs redis_bench.ts installs it)",
  );
}
const rawP50 = median(rtt.raw);
const workqP50 = median(rtt.workq);
console.log(
  `\nRound trip p50, one item at a time (${SAMPLES} samples, median of ${REPEATS} p50s): raw XADD → XREADGROUP BLOCK → XACK ${
    (rawP50 * 1000).toFixed(0)
  } µs; workq put() (resolved, in Redis) and a waiting get() on another handle ${
    (workqP50 * 1000).toFixed(0)
  } µs`,
);
// Issue 17, target 5: puts durable when they resolve, in both feeds.
const workqBest = Math.max(rate("put"), rate("putMany"));
const targets: [string, string, string, boolean][] = [];
const atLeast = (what: string, x: number, goal: number) =>
  targets.push([what, `${x.toFixed(2)}x`, `≥ ${goal}x`, x >= goal]);
atLeast("putMany() ×1000 ÷ raw ceiling", rate("putMany") / rate("raw"), 0.5);
atLeast("one put() per item ÷ raw ceiling", rate("put") / rate("raw"), 0.5);
if (withBullMQ) {
  atLeast("workq's best ÷ BullMQ's best", workqBest / bestBullMQ, 8);
}
const rttRatio = workqP50 / rawP50;
targets.push([
  "round trip p50 ÷ raw",
  `${rttRatio.toFixed(2)}x`,
  "≤ 1.5x",
  rttRatio <= 1.5,
]);
console.log(`\nIssue 17, target 5 (${runtimeName})\n`);
console.log("| | measured | goal | met |");
console.log("|---|---|---|---|");
for (const [what, measured, goal, met] of targets) {
  console.log(`| ${what} | ${measured} | ${goal} | ${met ? "yes" : "no"} |`);
}

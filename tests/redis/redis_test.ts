// The Redis transport against a real redis-server: the queue API in one
// process, ezq's sum with workers in other processes, a worker killed with
// SIGKILL, end markers across processes, and clear errors when the server
// cannot be reached.
import assert from "node:assert/strict";
import { test } from "node:test";
import { iterMsg, Msg, Queue } from "../../mod.ts";
import {
  closeQueue,
  deadLetters,
  endqAndWaitRemote,
  redisQueue,
} from "../../redis.ts";
import {
  type Child,
  cli,
  queueNamer,
  redisForTests,
  startRedis,
  startScript,
  within,
  workerArgs,
} from "./_server.ts";

const redis = redisForTests();
const name = queueNamer();

type Worker = Child;
const startWorker = (args: string[], env?: Record<string, string>) =>
  startScript(cli, args, env);

function sumWorker(
  inName: string,
  outName: string,
  exportName: string,
  env?: Record<string, string>,
  extra: string[] = [],
): Worker {
  return startWorker([
    ...extra,
    "--url",
    redis.url,
    ...workerArgs(inName, outName, exportName),
  ], env);
}

async function drain<T>(q: Queue<T>): Promise<Msg<T>[]> {
  await q.end();
  const out: Msg<T>[] = [];
  for await (const msg of iterMsg(q)) out.push(msg);
  return out;
}

test("the Queue API over Redis in one process: values, kinds, orders, bounded puts", async () => {
  const q = await redisQueue<unknown>(redis.url, name("api"), { maxsize: 3 });
  try {
    const buffer = new Uint8Array([1, 2, 3]).buffer;
    const value = { when: new Date(5), tags: new Set(["a"]), buffer };
    await q.put(value, { kind: "K", order: 7, transfer: [buffer] });
    assert.equal(buffer.byteLength, 0, "a transfer detaches the sender's copy");
    await q.put(new Msg({ data: 2n }));
    await q.put(undefined);
    // Bounded: the fourth put waits for room.
    let fourth = false;
    const putting = q.put("four").then(() => (fourth = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(fourth, false);
    const first = await q.get();
    assert.equal(first.kind, "K");
    assert.equal(first.order, 7);
    assert.deepEqual(first.data, {
      when: new Date(5),
      tags: new Set(["a"]),
      buffer: new Uint8Array([1, 2, 3]).buffer,
    });
    assert.equal(first.attempt, 1);
    assert.equal((await q.get()).data, 2n);
    await putting; // room came once the first item was finished
    assert.equal((await q.get()).data, undefined);
    assert.equal((await q.get({ timeout: 5000 })).data, "four");
    await assert.rejects(q.get({ timeout: 50 }), { name: "TimeoutError" });
    await assert.rejects(q.put(() => 1), TypeError);
  } finally {
    await closeQueue(q);
  }
});

test("a live queue put into a Redis queue is refused by name; the Redis queue goes on", async () => {
  const q = await redisQueue<unknown>(redis.url, name("live"));
  try {
    const local = new Queue<number>({ name: "local" });
    await assert.rejects(
      q.put({ reply: local }),
      (e: Error) =>
        e instanceof TypeError &&
        /Redis queue ".*": the item holds a live workq object/.test(e.message),
    );
    await assert.rejects(q.putMany([1, local]), /live workq object/);
    await q.put(1);
    assert.equal((await q.get({ timeout: 5000 })).data, 1);
  } finally {
    await closeQueue(q);
  }
});

// One put per item and workers that get one at a time; putMany of 64 and
// workers that read in batches (iterBatches).
for (const batched of [false, true]) {
  test(
    `ezq's sum with 2 worker processes${
      batched ? ", put and read in batches of 64" : ""
    }: exact total, each worker ends on its marker`,
    async () => {
      const N = 20_000;
      const inName = name(batched ? "bsum-in" : "sum-in");
      const outName = name(batched ? "bsum-out" : "sum-out");
      const inQ = await redisQueue<number>(redis.url, inName);
      const outQ = await redisQueue<number>(redis.url, outName);
      // An exact sum needs every item exactly once: a long claim time, so that a
      // worker descheduled on a busy machine is not taken for dead (at least
      // once would then count its items twice).
      const workers = [0, 1].map(() =>
        sumWorker(inName, outName, batched ? "sumBatches" : "sum", {}, [
          "--claim-idle",
          "10000",
        ])
      );
      try {
        for (let i = 0; i < N; i += batched ? 64 : 1) {
          if (!batched) await inQ.put(i);
          else {
            await inQ.putMany(
              Array.from({ length: Math.min(64, N - i) }, (_, k) => i + k),
            );
          }
        }
        await within(40_000, "endqAndWaitRemote", endqAndWaitRemote(inQ, 2));
        // The workers' totals are in before the input queue is empty: the end
        // marker put now comes after them.
        const totals = await drain(outQ);
        assert.equal(
          totals.reduce((s, m) => s + m.data, 0),
          (N * (N - 1)) / 2,
        );
        const codes = await within(
          10_000,
          "workers' exit",
          Promise.all(workers.map((w) => w.exit)),
        );
        assert.deepEqual(
          codes,
          [0, 0],
          workers.map((w) => w.stderr).join("\n"),
        );
        const counts = workers.map((w) => Number(w.stdout.trim()));
        assert.equal(counts[0] + counts[1], N);
      } finally {
        for (const w of workers) w.child.kill("SIGKILL");
        await closeQueue(inQ);
        await closeQueue(outQ);
      }
    },
  );
}

test("a worker killed with SIGKILL mid-run loses nothing; end markers wait for its items", async () => {
  const N = 3000;
  const inName = name("kill-in");
  const outName = name("kill-out");
  const inQ = await redisQueue<number>(redis.url, inName);
  const outQ = await redisQueue<[number, number]>(redis.url, outName);
  const env = { SLOW_MS: "1" };
  const victim = sumWorker(inName, outName, "echo", env);
  const survivors = [0, 1].map(() => sumWorker(inName, outName, "echo", env));
  try {
    for (let i = 0; i < N; i++) await inQ.put(i);
    // Kill the victim once it has done some work and holds more.
    await within(
      20_000,
      "victim's start",
      (async () => {
        while (!victim.stdout.includes("started")) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
      })(),
    );
    victim.child.kill("SIGKILL");
    const killedAt = performance.now();
    assert.equal(await victim.exit, null);
    // Markers go in at once: a survivor that reaches one must first take over
    // what the victim held (after claimIdle), or those items would be lost.
    await within(30_000, "endqAndWaitRemote", endqAndWaitRemote(inQ, 2));
    const recovery = performance.now() - killedAt;
    const outputs = await drain(outQ);
    const firsts = new Set<number>();
    const onFirstAttempt = new Set<number>();
    let redelivered = 0;
    let duplicates = 0;
    for (const { data: [item, attempt] } of outputs) {
      if (attempt > 1) redelivered++;
      else {
        // A second copy is only ever a delivery again, never a repeat.
        assert.ok(!onFirstAttempt.has(item), `item ${item} twice on attempt 1`);
        onFirstAttempt.add(item);
      }
      if (firsts.has(item)) duplicates++;
      firsts.add(item);
    }
    assert.equal(firsts.size, N);
    assert.equal(
      [...firsts].reduce((s, i) => s + i, 0),
      (N * (N - 1)) / 2,
    );
    assert.deepEqual(await deadLetters(inQ), []);
    const codes = await within(
      10_000,
      "survivors' exit",
      Promise.all(survivors.map((w) => w.exit)),
    );
    assert.deepEqual(codes, [0, 0], survivors.map((w) => w.stderr).join("\n"));
    console.log(
      `SIGKILL test: ${N} items put, ${outputs.length} outputs, ${firsts.size} distinct (sum exact), ${redelivered} redelivered (attempt 2), ${duplicates} duplicates, done ${
        Math.round(recovery)
      } ms after the kill`,
    );
  } finally {
    for (const w of [victim, ...survivors]) w.child.kill("SIGKILL");
    await closeQueue(inQ);
    await closeQueue(outQ);
  }
});

test("end markers across processes: a marker stops one worker; done-detection times out when no worker is left", async () => {
  const inName = name("end-in");
  const outName = name("end-out");
  const inQ = await redisQueue<number>(redis.url, inName);
  const outQ = await redisQueue<number>(redis.url, outName);
  try {
    for (let i = 1; i <= 10; i++) await inQ.put(i);
    await inQ.end();
    await inQ.put(100); // after the marker: not for this worker
    const worker = sumWorker(inName, outName, "sum");
    assert.equal(
      await within(20_000, "worker's exit", worker.exit),
      0,
      worker.stderr,
    );
    assert.equal(Number(worker.stdout.trim()), 10);
    assert.deepEqual((await drain(outQ)).map((m) => m.data), [55]);
    // The item after the marker is still there for the next reader...
    assert.equal((await inQ.get({ timeout: 5000 })).data, 100);
    // ...and with no worker left, waiting for the end gives up when told.
    await assert.rejects(
      endqAndWaitRemote(inQ, 1, { timeout: 200 }),
      (e: unknown) => e instanceof DOMException && e.name === "TimeoutError",
    );
  } finally {
    await closeQueue(inQ);
    await closeQueue(outQ);
  }
});

test("a bad URL or an unreachable server fails fast with a clear error", async () => {
  await assert.rejects(redisQueue("http://127.0.0.1:1", "q"), TypeError);
  await assert.rejects(redisQueue("not a url", "q"), /redis:\/\/host/);
  // Checked before a client exists; the password never shows.
  for (
    const bad of [
      "redis://:hunter2@127.0.0.1:6379/notadb",
      "redis://:hunter2@127.0.0.1:99999",
      "redis://:hunter2@127.0.0.1:0",
      "http://:hunter2@127.0.0.1:6379",
      "redis://:hunter2@127.0.0.1:6379/?db=1",
      "redis://:hunter2@[::1",
    ]
  ) {
    await assert.rejects(
      redisQueue(bad, "q"),
      (e: Error) =>
        e instanceof TypeError && e.message.includes("***@") &&
        !e.message.includes("hunter2"),
      bad,
    );
  }
  const started = performance.now();
  // Port 1 on loopback: nothing listens there.
  await assert.rejects(
    redisQueue("redis://127.0.0.1:1", "q", { connectTimeout: 2000 }),
    /Cannot connect to Redis at redis:\/\/127\.0\.0\.1:1/,
  );
  assert.ok(performance.now() - started < 3000);
  // A host that never answers: the connect timeout applies.
  const worker = startWorker([
    "--url",
    "redis://127.0.0.1:1",
    ...workerArgs("q", undefined, "sum"),
    "--connect-timeout",
    "1000",
  ]);
  assert.equal(await within(15_000, "worker's exit", worker.exit), 1);
  assert.match(
    worker.stderr,
    /Cannot connect to Redis at redis:\/\/127\.0\.0\.1:1/,
  );
  const bad = startWorker([
    "--url",
    "nope",
    ...workerArgs("q", undefined, "sum"),
  ]);
  assert.equal(await within(15_000, "worker's exit", bad.exit), 1);
  assert.match(bad.stderr, /must look like redis:\/\/host/);
});

test("a server that goes away makes a waiting get() reject, not hang", async () => {
  const own = await startRedis();
  const q = await redisQueue<number>(own.url, name("gone"));
  try {
    const waiting = q.get();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await own.stop();
    await within(
      10_000,
      "get()",
      assert.rejects(waiting, /Cannot get from queue/),
    );
  } finally {
    await within(10_000, "closeQueue", closeQueue(q).catch(() => {}));
    await own.stop();
  }
});

// Batch reads over Redis against a real redis-server: getMany() and
// iterBatches() in one process, and ezq's sum read in batches by 2 worker
// processes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { END, iterBatches, type Msg } from "../../mod.ts";
import { closeQueue, endqAndWaitRemote, redisQueue } from "../../redis.ts";
import { here } from "../_helpers.ts";
import { queueNamer, redisForTests, startScript, within } from "./_server.ts";

const cli = here("../src/redis/worker.ts");
const tasks = here("./redis/fixtures/tasks.ts");
const redis = redisForTests();
const name = queueNamer();

test("Redis getMany(): up to max in order, kinds and orders kept, waits for the first, stops at the end marker", async () => {
  const q = await redisQueue<number>(redis.url, name("many"));
  try {
    await q.putMany([1, 2, 3, 4, 5]);
    await q.put(6, { kind: "K", order: 2 });
    const seen: Msg<number>[] = [];
    while (seen.length < 6) {
      const batch = await q.getMany({ max: 4, timeout: 5000 });
      assert.ok(batch.length >= 1 && batch.length <= 4, `${batch.length}`);
      seen.push(...batch);
    }
    assert.deepEqual(seen.map((m) => [m.data, m.kind, m.order]), [
      [1, "", 0],
      [2, "", 0],
      [3, "", 0],
      [4, "", 0],
      [5, "", 0],
      [6, "K", 2],
    ]);
    const pending = q.getMany({ max: 10 });
    await q.put(7);
    assert.deepEqual((await pending).map((m) => m.data), [7]);
    await assert.rejects(q.getMany({ timeout: 50 }), { name: "TimeoutError" });
    await q.putMany([8, 9]);
    await q.end();
    await q.put(10);
    const upToEnd: Msg<number>[] = [];
    while (upToEnd.at(-1)?.kind !== END) {
      upToEnd.push(...await q.getMany({ max: 10, timeout: 5000 }));
    }
    assert.deepEqual(upToEnd.map((m) => m.data), [8, 9, undefined]);
    assert.deepEqual(
      (await q.getMany({ timeout: 5000 })).map((m) => m.data),
      [10],
      "what follows the marker stays for the next read",
    );
    await assert.rejects(q.getMany({ max: 0 }), RangeError);
  } finally {
    await closeQueue(q);
  }
});

test("Redis iterBatches(): every item once, in order, in batches of at most max", async () => {
  const q = await redisQueue<number>(redis.url, name("batches"));
  try {
    const items = Array.from({ length: 300 }, (_, i) => i);
    await q.putMany(items);
    await q.end();
    const seen: number[] = [];
    for await (const batch of iterBatches(q, { max: 64 })) {
      assert.ok(batch.length >= 1 && batch.length <= 64, `${batch.length}`);
      for (const msg of batch) seen.push(msg.data);
    }
    assert.deepEqual(seen, items);
  } finally {
    await closeQueue(q);
  }
});

test("ezq's sum read in batches by 2 worker processes: exact total", async () => {
  const N = 20_000;
  const inName = name("bsum-in");
  const outName = name("bsum-out");
  const inQ = await redisQueue<number>(redis.url, inName);
  const outQ = await redisQueue<number>(redis.url, outName);
  // Exactly once needs a long claim time (see redis_test.ts's sum).
  const workers = [0, 1].map(() =>
    startScript(cli, [
      "--claim-idle",
      "10000",
      "--url",
      redis.url,
      "--queue",
      inName,
      "--results",
      outName,
      "--module",
      tasks.href,
      "--export",
      "sumBatches",
    ])
  );
  try {
    for (let i = 0; i < N; i += 64) {
      await inQ.putMany(
        Array.from({ length: Math.min(64, N - i) }, (_, k) => i + k),
      );
    }
    await within(40_000, "endqAndWaitRemote", endqAndWaitRemote(inQ, 2));
    await outQ.end();
    let total = 0;
    for await (const batch of iterBatches(outQ)) {
      for (const msg of batch) total += msg.data;
    }
    assert.equal(total, (N * (N - 1)) / 2);
    const codes = await within(
      10_000,
      "workers' exit",
      Promise.all(workers.map((w) => w.exit)),
    );
    assert.deepEqual(codes, [0, 0], workers.map((w) => w.stderr).join("\n"));
    const counts = workers.map((w) => Number(w.stdout.trim()));
    assert.equal(counts[0] + counts[1], N);
  } finally {
    for (const w of workers) w.child.kill("SIGKILL");
    await closeQueue(inQ);
    await closeQueue(outQ);
  }
});

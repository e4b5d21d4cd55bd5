// Batch reads over Redis against a real redis-server: getMany() and
// iterBatches() in one process (ezq's sum read in batches by 2 worker
// processes is in redis_test.ts, beside the one read item by item).
import assert from "node:assert/strict";
import { test } from "node:test";
import { END, iterBatches, type Msg } from "../../mod.ts";
import { closeQueue, redisQueue } from "../../redis.ts";
import { queueNamer, redisForTests } from "./_server.ts";

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

// putMany on in-process queues: in order, kinds and orders kept, all or
// nothing when an item cannot be put, backpressure on bounded queues, from
// the owner's thread and from a worker, and on iterable-queue's producers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { IterableQueue, Queue, run } from "../../mod.ts";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test("putMany from a worker into a bounded queue waits for room and keeps the order", async () => {
  const q = new Queue<number>({ maxsize: 5 });
  const producer = run(async (q: Queue<number>) => {
    await q.putMany(Array.from({ length: 100 }, (_, i) => i));
    return "done";
  }, q);
  const seen: number[] = [];
  for (let i = 0; i < 100; i++) {
    seen.push((await q.get({ timeout: 10_000 })).data);
    assert.ok(q.size <= 5, `size ${q.size} exceeds maxsize`);
  }
  assert.equal(await producer, "done");
  assert.deepEqual(seen, range(100));
});

test("an iterable-queue producer's putMany, and none after close", async () => {
  const iq = new IterableQueue<number>();
  const producer = iq.producer();
  const consumer = iq.consumer();
  iq.close(); // no new producers
  await producer.putMany([1, 2, 3]);
  await producer.close();
  await assert.rejects(producer.putMany([4]), /this producer has closed/);
  const seen: number[] = [];
  for await (const n of consumer) seen.push(n); // ends: done
  assert.deepEqual(seen, [1, 2, 3]);
});

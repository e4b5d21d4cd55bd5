import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Consumer,
  IterableQueue,
  type Producer,
  QueueDoneError,
  run,
} from "../../mod.ts";

test("iterable-queue's example: 3 producers, 5 consumers, no end markers; every item once", async () => {
  const iq = new IterableQueue<number>();
  const producers = [0, 1, 2].map((id) =>
    run(
      async (queue: Producer<number>, id: number) => {
        for (let i = 0; i < 1000; i++) await queue.put(id * 1000 + i);
        await queue.close();
      },
      iq.producer(),
      id,
    )
  );
  const consumers = [0, 1, 2, 3, 4].map(() =>
    run(async (queue: Consumer<number>) => {
      const seen: number[] = [];
      for await (const item of queue) seen.push(item);
      return seen;
    }, iq.consumer())
  );
  iq.close(); // no new producers
  await Promise.all(producers);
  const all = (await Promise.all(consumers)).flat().sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 3000 }, (_, i) => i));
});

test("get() tells 'empty for now' (TimeoutError) from 'done' (QueueDoneError)", async () => {
  const iq = new IterableQueue<string>({ name: "endpoints" });
  const producer = iq.producer();
  const consumer = iq.consumer();
  await assert.rejects(
    consumer.get({ timeout: 30 }),
    (e: Error) => e.name === "TimeoutError",
  );
  await producer.put("a");
  assert.equal(await consumer.get(), "a");
  iq.close();
  await assert.rejects(
    consumer.get({ timeout: 30 }),
    (e: Error) => e.name === "TimeoutError",
    "a producer is open",
  );
  await producer.close();
  await assert.rejects(consumer.get(), QueueDoneError);
  await assert.rejects(
    consumer.get(),
    QueueDoneError,
    "once done, always done",
  );
});

test("a consumer waiting before the end is released when the last producer closes", async () => {
  const iq = new IterableQueue<number>();
  const producer = iq.producer();
  iq.close();
  const waiting = run(async (c: Consumer<number>) => {
    const got = [];
    for await (const n of c) got.push(n);
    return got;
  }, iq.consumer());
  await new Promise((r) => setTimeout(r, 100));
  await producer.put(7);
  await producer.close();
  assert.deepEqual(await waiting, [7]);
});

test("put after close is an error and adds nothing; a second close does nothing; no producer after close()", async () => {
  const iq = new IterableQueue<number>();
  const producer = iq.producer();
  await producer.put(1);
  await producer.close();
  await producer.close();
  await assert.rejects(producer.put(2), /this producer has closed/);
  iq.close();
  assert.throws(() => iq.producer(), /it was closed/);
  const consumer = iq.consumer();
  assert.equal(await consumer.get(), 1);
  await assert.rejects(consumer.get(), QueueDoneError);
});

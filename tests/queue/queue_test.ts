import assert from "node:assert/strict";
import { test } from "node:test";
import { endqAndWait, Queue, run, task } from "../../mod.ts";
import { here } from "../_helpers.ts";
import { queueContract } from "./_contract.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("../fixtures/tasks.ts");

queueContract(
  "in-process",
  <T>(options?: { name?: string; maxsize?: number }) => new Queue<T>(options),
);

test("an item put in one thread is a copy in another: changes after put() do not reach a worker", async () => {
  const q = new Queue<{ n: number }>();
  const item = { n: 1 };
  const reader = run(
    async (q: Queue<{ n: number }>) => (await q.get()).data.n,
    q,
  );
  await q.put(item);
  await reader;
  item.n = 2;
  assert.equal(await reader, 1);
});

test("a bounded queue applies backpressure to producers in workers too", async () => {
  const q = new Queue<number>({ maxsize: 5, name: "bounded" });
  const out = new Queue<number>();
  const producer = run(async (q: Queue<number>) => {
    for (let i = 0; i < 200; i++) await q.put(i);
    return q.size;
  }, q);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(q.size <= 5, `size ${q.size} exceeds maxsize`);
  assert.equal(
    producer.alive,
    true,
    "the producer must still be waiting for room",
  );
  const seen: number[] = [];
  for (let i = 0; i < 200; i++) {
    seen.push((await q.get()).data);
    assert.ok(q.size <= 5);
  }
  await producer;
  assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
  void out;
});

test("uncloneable values put from a worker fail there, and the queue keeps the rest", async () => {
  const q = new Queue<unknown>({ name: "results" });
  const message = await run(
    task<Tasks, "putUncloneable">(tasks, "putUncloneable"),
    q,
  );
  assert.match(
    message as string,
    /^TypeError: Cannot put into queue "results": value\.handler \(function/,
  );
  assert.deepEqual([(await q.get()).data, (await q.get()).data], [
    "before",
    "after",
  ]);
});

test("exactly-once delivery: 100,000 items to 4 consumers", async () => {
  const inQ = new Queue<number>();
  const outQ = new Queue<number>();
  const workers = Array.from(
    { length: 4 },
    () => run(task<Tasks, "sum">(tasks, "sum"), inQ, outQ),
  );
  const N = 100_000;
  for (let i = 0; i < N; i++) await inQ.put(i);
  const counts = await endqAndWait(inQ, workers);
  assert.equal(counts.reduce((a, b) => a + b, 0), N);
  await outQ.end();
  let total = 0;
  for await (const msg of outQ) total += msg.data;
  assert.equal(total, (N * (N - 1)) / 2);
  assert.equal(inQ.size, 0);
});

test("every item reaches exactly one consumer: no duplicates, none missing", async () => {
  const inQ = new Queue<number>();
  const outQ = new Queue<number>();
  const workers = Array.from(
    { length: 4 },
    () => run(task<Tasks, "echo">(tasks, "echo"), inQ, outQ),
  );
  const N = 20_000;
  for (let i = 0; i < N; i++) await inQ.put(i);
  await endqAndWait(inQ, workers);
  await outQ.end();
  const seen = new Uint8Array(N);
  for await (const msg of outQ) seen[msg.data]++;
  assert.ok(seen.every((n) => n === 1), "each item exactly once");
});

test("FIFO per producer: items from one worker arrive in the order it put them", async () => {
  const q = new Queue<number>();
  const producers = [0, 1].map((p) =>
    run(
      async (q: Queue<number>, p: number) => {
        for (let i = 0; i < 5000; i++) await q.put(p * 100_000 + i);
      },
      q,
      p,
    )
  );
  await Promise.all(producers);
  const last = [-1, -1];
  for (let i = 0; i < 10_000; i++) {
    const v = (await q.get()).data;
    const p = Math.floor(v / 100_000);
    assert.ok(v % 100_000 > last[p], "order within a producer");
    last[p] = v % 100_000;
  }
});

test("a queue passed on by a worker, inside a message, reaches the same queue", async () => {
  const handoff = new Queue<Queue<number>>();
  const target = new Queue<number>({ name: "target" });
  const worker = run(task<Tasks, "forward">(tasks, "forward"), handoff, 42);
  await handoff.put(target);
  await worker;
  assert.equal((await target.get()).data, 42);
});

test("a worker can pass a queue on to a worker of its own", async () => {
  const q = new Queue<number>();
  const outer = run(async (q: Queue<number>) => {
    const inner = run(async (q: Queue<number>) => {
      await q.put(7);
      return "inner done";
    }, q);
    return await inner;
  }, q);
  assert.equal(await outer, "inner done");
  assert.equal((await q.get()).data, 7);
});

test("a queue whose owning worker ended fails readers elsewhere instead of hanging them", async () => {
  const q = await run(() => new Queue<number>({ name: "short-lived" }));
  await assert.rejects(
    q.get({ timeout: 10_000 }),
    /Queue "short-lived" is gone/,
  );
});

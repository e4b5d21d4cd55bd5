import assert from "node:assert/strict";
import { test } from "node:test";
import { ProcessQueue, Queue, task } from "../../mod.ts";
import { here } from "../_helpers.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("../fixtures/tasks.ts");
type Item = { n: number; out: Queue<number>; wait?: number };

async function drain(q: Queue<number>, count: number): Promise<number[]> {
  const got = [];
  for (let i = 0; i < count; i++) {
    got.push((await q.get({ timeout: 10_000 })).data);
  }
  return got;
}

test("start() appends items and starts ONE worker; it ends by itself once drained", async () => {
  const out = new Queue<number>();
  const pq = new ProcessQueue<Item>(task<Tasks, "record">(tasks, "record"));
  assert.equal(pq.done, true);
  const items = (ns: number[]) => ns.map((n) => ({ n, out }));
  assert.deepEqual(pq.start(items([1, 2, 3])), [true, 3]);
  assert.equal(pq.isAlive(), true);
  const [again] = pq.start(items([4, 5]));
  assert.equal(again, false, "a second start while alive starts no new worker");
  await pq.onIdle();
  assert.equal(pq.isAlive(), false);
  assert.equal(pq.done, true);
  assert.deepEqual(await drain(out, 5), [1, 2, 3, 4, 5]);
  assert.deepEqual(
    pq.start(items([6])),
    [true, 1],
    "a later start starts a new worker",
  );
  await pq.onIdle();
  assert.deepEqual(await drain(out, 1), [6]);
});

test("no batch is stranded: starts that land while the worker is ending are all handled", async () => {
  const out = new Queue<number>();
  const pq = new ProcessQueue<Item>(task<Tasks, "record">(tasks, "record"), {
    batchSize: 1,
  });
  let expected = 0;
  for (let round = 0; round < 20; round++) {
    pq.start([{ n: round, out }]);
    expected++;
    await new Promise((r) => setTimeout(r, round % 3)); // land at every moment of a worker's end
  }
  await pq.onIdle();
  const got = (await drain(out, expected)).sort((a, b) => a - b);
  assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i));
  assert.equal(pq.size, 0);
});

test("append() and begin() separately; a throwing handler is reported and the rest go on", async () => {
  const out = new Queue<number>();
  const errors: [unknown, Item][] = [];
  const pq = new ProcessQueue<Item>(task<Tasks, "record">(tasks, "record"), {
    onError: (error, item) => errors.push([error, item]),
  });
  assert.equal(pq.append([{ n: 1, out }, { n: -1, out }, { n: 2, out }]), 3);
  assert.equal(pq.isAlive(), false);
  assert.equal(pq.begin(), true);
  await pq.onIdle();
  assert.deepEqual(await drain(out, 2), [1, 2]);
  assert.equal(errors.length, 1);
  assert.match((errors[0][0] as Error).message, /negative: -1/);
  assert.equal(errors[0][1].n, -1);
});

test("stop() before any start does nothing; stop() mid-run keeps the unfinished items", async () => {
  const out = new Queue<number>();
  const pq = new ProcessQueue<Item>(task<Tasks, "record">(tasks, "record"), {
    batchSize: 1,
  });
  assert.equal(await pq.stop(), false);
  pq.start([{ n: 1, out, wait: 2000 }, { n: 2, out }]);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await pq.stop(), true);
  assert.equal(pq.isAlive(), false);
  assert.ok(pq.size >= 1, "the unfinished items are still queued");
  pq.begin();
  await pq.onIdle();
  assert.deepEqual((await drain(out, 2)).sort(), [1, 2]);
});

test("bad input to ProcessQueue is a clear TypeError or RangeError", () => {
  assert.throws(
    () => new ProcessQueue(5 as never),
    /expected a function or task/,
  );
  assert.throws(() => new ProcessQueue(() => 1, { batchSize: 0 }), RangeError);
  const pq = new ProcessQueue<number>();
  assert.throws(
    () => pq.append(3 as never),
    /items must be an array, received number 3/,
  );
  pq.append([1]);
  assert.throws(() => pq.begin(), /has no handler/);
});

test("stop() mid-batch: an item whose result was delivered is not run again", async () => {
  const out = new Queue<number>();
  const pq = new ProcessQueue<Item>(task<Tasks, "record">(tasks, "record"), {
    batchSize: 2,
  });
  // One batch: the first item is done at once, the second takes long.
  pq.start([{ n: 1, out }, { n: 2, out, wait: 1500 }]);
  assert.equal((await out.get({ timeout: 10_000 })).data, 1);
  assert.equal(await pq.stop(), true);
  assert.equal(pq.size, 1, "only the unfinished item is queued again");
  pq.begin();
  await pq.onIdle();
  const rest: number[] = [];
  for (;;) {
    const msg = await out.get({ timeout: 0 }).catch(() => undefined);
    if (!msg) break;
    rest.push(msg.data);
  }
  assert.deepEqual(rest, [2], "item 1 ran once");
});

test("workers that cannot start: onIdle() rejects naming the cause after a few tries; the items stay queued", async () => {
  const pq = new ProcessQueue<number>(
    task(here("./fixtures/throws_at_import.ts"), "never"),
  );
  pq.start([1, 2, 3]);
  await assert.rejects(
    pq.onIdle(),
    (e: Error) =>
      /ProcessQueue "process-queue": \d+ workers in a row failed to start; the last: .*this module cannot be loaded/
        .test(e.message) &&
      /this module cannot be loaded/.test((e.cause as Error).message),
  );
  assert.equal(pq.size, 3);
  assert.equal(pq.isAlive(), false);
});

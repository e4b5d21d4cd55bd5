// Put credit for bounded queues (broker.ts): producers in workers put
// without a round trip while there is room, and the bound stays exact.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Queue, run, task } from "../../../mod.ts";
import { here } from "../../_helpers.ts";

const tasks = here("./queue/threads/credit_tasks.ts");
type Tasks = typeof import("./credit_tasks.ts");

// Waits (turning the event loop) until `cell[at]` is set.
async function until(cell: Int32Array, at: number): Promise<void> {
  while (Atomics.load(cell, at) === 0) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test("a worker's puts into a bounded queue with room need no answer from the owner", async () => {
  const q = new Queue<number>({ maxsize: 1000 });
  const cell = new Int32Array(new SharedArrayBuffer(12));
  const producer = run(
    task<Tasks, "putWhileOwnerBlocked">(tasks, "putWhileOwnerBlocked"),
    q,
    cell,
    50,
  );
  await until(cell, 0);
  // This thread, the queue's owner, now answers nothing until the producer
  // is done or the bound passes: its puts must go on their own.
  Atomics.store(cell, 1, 1);
  Atomics.notify(cell, 1);
  Atomics.wait(cell, 2, 0, 10_000);
  assert.equal(
    Atomics.load(cell, 2),
    1,
    "the producer's puts waited for the blocked owner although there was room",
  );
  await producer;
  const seen: number[] = [];
  for (let i = 0; i <= 50; i++) seen.push((await q.get()).data);
  assert.deepEqual(seen, Array.from({ length: 51 }, (_, i) => i));
});

test("several producers with credit never take a bounded queue above its bound", async () => {
  const maxsize = 7;
  const each = 2000;
  const q = new Queue<number>({ maxsize });
  const producers = [0, 1, 2].map((p) =>
    run(task<Tasks, "putRange">(tasks, "putRange"), q, p * each, each)
  );
  const last = [-1, -1, -1];
  let peak = 0; // the size seen after a pause, when the producers had time
  for (let i = 0; i < 3 * each; i++) {
    const n = (await q.get()).data;
    const p = Math.floor(n / each);
    assert.ok(n > last[p], `producer ${p}: ${n} came after ${last[p]}`);
    last[p] = n;
    assert.ok(q.size <= maxsize, `size ${q.size} exceeds maxsize ${maxsize}`);
    // Let the producers fill the queue up now and then.
    if (i % 500 === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      peak = Math.max(peak, q.size);
    }
  }
  await Promise.all(producers);
  assert.deepEqual(last, [each - 1, 2 * each - 1, 3 * each - 1]);
  assert.equal(peak, maxsize, "the producers never filled the queue");
});

test("a producer that dies gives its unused credit back: the room is whole again", async () => {
  const maxsize = 8;
  const q = new Queue<number>({ maxsize });
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const producer = run(
    task<Tasks, "putOneAndSpin">(tasks, "putOneAndSpin"),
    q,
    cell,
  );
  await until(cell, 0);
  await producer.terminate();
  await producer.then(() => {}, () => {});
  // Credit the dead producer held would keep the last of these waiting.
  const puts = Array.from({ length: maxsize - q.size }, (_, i) => q.put(i));
  await Promise.all(puts);
  assert.equal(q.size, maxsize);
});

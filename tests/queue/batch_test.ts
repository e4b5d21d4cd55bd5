// Batch reads across threads: getMany() and iterBatches() in workers, with
// putMany() for the results, on the in-process engine (the contract in
// _contract.ts covers one thread).
import assert from "node:assert/strict";
import { test } from "node:test";
import { endqAndWait, Queue, run, task, WorkerError } from "../../mod.ts";
import { here } from "../_helpers.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("../fixtures/tasks.ts");

test("batches both ways: 20,000 items through 2 workers reading with iterBatches and putting with putMany, each once", async () => {
  const inQ = new Queue<number>();
  const outQ = new Queue<number>();
  const workers = Array.from(
    { length: 2 },
    () => run(task<Tasks, "incBatches">(tasks, "incBatches"), inQ, outQ, 64),
  );
  const n = 20_000;
  for (let i = 0; i < n; i += 64) {
    await inQ.putMany(
      Array.from({ length: Math.min(64, n - i) }, (_, k) => i + k),
    );
  }
  const seen = new Set<number>();
  while (seen.size < n) {
    for (const msg of await outQ.getMany({ max: 64 })) {
      assert.ok(!seen.has(msg.data), `${msg.data} came twice`);
      seen.add(msg.data);
    }
  }
  await endqAndWait(inQ, workers);
  const largest = await Promise.all(workers.map((w) => w.result));
  assert.ok(largest.every((l) => l <= 64), `batches of ${largest}`);
  assert.ok(largest.some((l) => l > 1), "items came in batches");
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i + 1),
  );
  assert.equal(outQ.size, 0);
});

test("a worker that dies holding a batch gives back every item of it, not only the last", async () => {
  const q = new Queue<number>();
  const saidQ = new Queue<number>();
  await q.putMany([1, 2, 3, 4, 5]);
  const dying = run(
    task<Tasks, "takeBatchAndExit">(tasks, "takeBatchAndExit"),
    q,
    saidQ,
    5,
  );
  const got = (await saidQ.get()).data;
  assert.equal(got, 5, "the waiting batch read asked for its whole batch");
  const error = await dying.result.then(() => undefined, (e) => e);
  assert.ok(error instanceof WorkerError, String(error));
  const back = await q.getMany({ max: 10, timeout: 10_000 });
  assert.deepEqual(back.map((m) => m.data), [1, 2, 3, 4, 5]);
  assert.deepEqual(back.map((m) => m.attempt), [2, 2, 2, 2, 2]);
});

test("putMany from a worker into a bounded queue: the size never goes above the bound, every item arrives in order", async () => {
  const q = new Queue<number>({ maxsize: 10 });
  const producer = run(async (q: Queue<number>) => {
    for (let i = 0; i < 500; i += 25) {
      await q.putMany(Array.from({ length: 25 }, (_, k) => i + k));
    }
  }, q);
  const seen: number[] = [];
  while (seen.length < 500) {
    assert.ok(q.size <= 10, `size ${q.size} above the bound`);
    for (const msg of await q.getMany({ max: 7 })) seen.push(msg.data);
    assert.ok(q.size <= 10, `size ${q.size} above the bound`);
  }
  await producer;
  assert.deepEqual(seen, Array.from({ length: 500 }, (_, i) => i));
});

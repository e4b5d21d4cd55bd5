// How the pool hands tasks to its workers: several in flight per worker for
// short tasks (prefetch) within the priority rule, several running at once
// with concurrencyPerWorker, and what a death does to prefetched tasks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Pool, task, WorkerError } from "../../mod.ts";
import { here } from "../_helpers.ts";
import { echo, pooled, spin } from "./_pool.ts";

type Tasks = typeof import("../fixtures/pool_dispatch_tasks.ts");
const tasks = here("./fixtures/pool_dispatch_tasks.ts");
const tag = task<Tasks, "tag">(tasks, "tag");
const dieIf = task<Tasks, "dieIf">(tasks, "dieIf");
const meet = task<Tasks, "meet">(tasks, "meet");

// Enough runs for the pool to have measured a task.
async function warm(run: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 20; i++) await run();
}

pooled(
  "a backlog of slow low-priority tasks is not prefetched: a later high-priority task runs next on the first free worker",
  { maxWorkers: 1 },
  async (pool) => {
    await warm(() => pool.run(spin, 20));
    await warm(() => pool.run(echo, "warm"));
    const order: string[] = [];
    const record = (p: Promise<unknown>, name: string) =>
      p.then(() => void order.push(name));
    const lows = ["low-1", "low-2", "low-3", "low-4"].map((name) =>
      record(pool.runWith(spin, [20], { priority: 0 }), name)
    );
    // Only the running one is on the worker: the rest wait in the pool.
    assert.deepEqual([pool.stats().running, pool.stats().queued], [1, 3]);
    const high = record(pool.runWith(echo, ["high"], { priority: 9 }), "high");
    await Promise.all([...lows, high]);
    assert.deepEqual(order, ["low-1", "high", "low-2", "low-3", "low-4"]);
  },
);

pooled(
  "short tasks are prefetched, up to a bound: a high-priority task comes right after those already on the worker, before the rest",
  { maxWorkers: 1 },
  async (pool) => {
    await warm(() => pool.run(echo, "warm"));
    const order: string[] = [];
    const lows: Promise<void>[] = [];
    for (let i = 0; i < 3000; i++) {
      lows.push(
        pool.run(echo, `low-${i}`).then((n) => void order.push(n as string)),
      );
    }
    const { running, queued } = pool.stats();
    // More than one on the worker, but not the whole backlog.
    assert.ok(running > 1 && running <= 1024, `${running} on the worker`);
    assert.equal(running + queued, 3000);
    const high = pool.runWith(echo, ["high"], { priority: 1 })
      .then((n) => void order.push(n as string));
    await Promise.all([...lows, high]);
    assert.equal(order.indexOf("high"), running);
    assert.deepEqual(
      order.filter((n) => n !== "high"),
      Array.from({ length: 3000 }, (_, i) => `low-${i}`),
    );
  },
);

pooled(
  "a task with a timeout is never prefetched",
  { maxWorkers: 1 },
  async (pool) => {
    await warm(() => pool.run(echo, "warm"));
    const runs = Array.from(
      { length: 5 },
      (_, i) => pool.runWith(echo, [i], { timeout: 60_000 }),
    );
    assert.deepEqual([pool.stats().running, pool.stats().queued], [1, 4]);
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4]);
  },
);

pooled(
  "a worker that dies with tasks prefetched behind the running one fails that one only; the rest run on its replacement",
  { maxWorkers: 1 },
  async (pool) => {
    await warm(() => pool.run(dieIf, false));
    await warm(() => pool.run(tag, 0));
    const [, first] = await pool.run(tag, 0);
    const before = Array.from({ length: 5 }, (_, i) => pool.run(tag, i));
    const dying = pool.run(dieIf, true);
    const after = Array.from({ length: 5 }, (_, i) => pool.run(tag, 5 + i));
    assert.ok(pool.stats().running > 6, "prefetched behind the dying task");
    await assert.rejects(dying, WorkerError);
    const done = await Promise.all([...before, ...after]);
    assert.deepEqual(done.map(([i]) => i), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Those before it ran on the first worker, those after on the next.
    assert.ok(done.slice(0, 5).every(([, w]) => w === first));
    assert.ok(done.slice(5).every(([, w]) => w !== first));
    assert.equal(pool.stats().failed, 1);
    assert.equal(pool.stats().completed, 51);
  },
);

pooled(
  "concurrencyPerWorker runs that many async tasks at once on one worker; each sees its signal",
  { maxWorkers: 1, concurrencyPerWorker: 3 },
  async (pool) => {
    const cells = new SharedArrayBuffer(4);
    // Each waits for the other two: only overlapping tasks all see 3.
    const met = await Promise.all(
      [1, 2, 3].map(() => pool.run(meet, cells, 3, 60_000)),
    );
    assert.deepEqual(met.map(([n, signal]) => [n, signal]), [
      [3, true],
      [3, true],
      [3, true],
    ]);
    assert.equal(new Set(met.map(([, , w]) => w)).size, 1);
    assert.equal(pool.stats().workers, 1);
  },
);

pooled(
  "with concurrencyPerWorker 1 (the default) a worker's async tasks do not overlap",
  { maxWorkers: 1 },
  async (pool) => {
    const cells = new SharedArrayBuffer(4);
    // The first cannot meet the second: it gives up after its turns.
    const met = await Promise.all(
      [1, 2].map(() => pool.run(meet, cells, 2, 20)),
    );
    assert.deepEqual(met.map(([n]) => n), [1, 2]);
  },
);

test("bad concurrencyPerWorker values are errors naming the option", () => {
  for (const bad of [0, 1.5, -1]) {
    assert.throws(
      () => new Pool({ concurrencyPerWorker: bad }),
      /Cannot create a pool: options\.concurrencyPerWorker/,
    );
  }
  assert.throws(
    () => new Pool({ concurrencyPerWorker: "2" as never }),
    /options\.concurrencyPerWorker must be a number/,
  );
});

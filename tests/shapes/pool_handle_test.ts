// Pool.submit's handle: its progress as an async iterator, its result, and
// cancel(), all through runWith's own signal and onProgress.
import assert from "node:assert/strict";
import process from "node:process";
import { taskProgress } from "../../mod.ts";
import { awaitCancel, count, fail, pooled, until, whoami } from "./_pool.ts";

pooled(
  "progress yields every value in order, then ends; result is the task's",
  { maxWorkers: 2 },
  async (pool) => {
    const jobs = [pool.submit(count, [100]), pool.submit(count, [50])];
    const seen: number[][] = [];
    for (const job of jobs) {
      const values: number[] = [];
      for await (const value of job.progress) values.push(value as number);
      seen.push(values);
    }
    const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    assert.deepEqual(seen, [upTo(100), upTo(50)]);
    assert.deepEqual(await Promise.all(jobs.map((j) => j.result)), [
      "done",
      "done",
    ]);
    // Read after the end: the iterator stays done.
    assert.deepEqual(await jobs[0].progress.next(), {
      value: undefined,
      done: true,
    });
  },
);

pooled(
  "values sent before the loop starts wait for it; the caller's onProgress sees them too",
  { maxWorkers: 1 },
  async (pool) => {
    const called: unknown[] = [];
    const job = pool.submit(count, [30], {
      onProgress: (value) => called.push(value),
    });
    assert.equal(await job.result, "done");
    const read: unknown[] = [];
    for await (const value of job.progress) read.push(value);
    assert.equal(read.length, 30);
    assert.deepEqual(read, called);
  },
);

pooled(
  "cancel() is cooperative: the task sees taskSignal() abort, result rejects with the reason, the next task runs on the same worker",
  { maxWorkers: 1, cancelGrace: 60_000 },
  async (pool) => {
    const [before] = await pool.run(whoami);
    const started = new SharedArrayBuffer(4);
    const job = pool.submit(awaitCancel, [started]);
    await until(() => Atomics.load(new Int32Array(started), 0) === 1);
    const reason = new Error("not wanted");
    job.cancel(reason);
    await assert.rejects(job.result, (error) => error === reason);
    await assert.rejects(job.progress.next(), (error) => error === reason);
    await until(() => pool.stats().running === 0);
    const [after, ran] = await pool.run(whoami);
    assert.equal(after, before);
    assert.equal(ran, 2);
    assert.equal(pool.stats().cancelled, 1);
    job.cancel(new Error("again")); // settled: nothing
  },
);

pooled(
  "the caller's own signal still cancels a submitted task",
  { maxWorkers: 1, cancelGrace: 60_000 },
  async (pool) => {
    const stop = new AbortController();
    const reason = new Error("caller stopped it");
    const job = pool.submit(awaitCancel, [], { signal: stop.signal });
    stop.abort(reason);
    await assert.rejects(job.result, (error) => error === reason);
  },
);

pooled(
  "a handle read only by its progress loop: the failure ends the loop, and no rejection goes unhandled",
  { maxWorkers: 1 },
  async (pool) => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", record);
    try {
      const job = pool.submit(() => {
        taskProgress("half");
        throw new RangeError("broke halfway");
      }, []);
      const seen: unknown[] = [];
      const error = await (async () => {
        for await (const value of job.progress) seen.push(value);
      })().catch((e) => e);
      assert.deepEqual(seen, ["half"]);
      assert.ok(error instanceof RangeError);
      assert.equal(error.message, "broke halfway");
      // Turns of the event loop for a rejection to be reported, if any were.
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", record);
    }
  },
);

pooled(
  "breaking out of the progress loop stops the iterator; the task goes on",
  { maxWorkers: 1 },
  async (pool) => {
    const job = pool.submit(count, [200]);
    const seen: unknown[] = [];
    for await (const value of job.progress) {
      seen.push(value);
      if (seen.length === 3) break;
    }
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(await job.result, "done");
    assert.deepEqual(await job.progress.next(), {
      value: undefined,
      done: true,
    });
    assert.equal(pool.stats().completed, 1);
  },
);

pooled(
  "submit() checks its arguments as runWith does, naming the option",
  { maxWorkers: 1 },
  async (pool) => {
    assert.throws(
      () => pool.submit(whoami, [], { signal: "stop" as never }),
      /options\.signal/,
    );
    assert.throws(
      () => pool.submit(whoami, [], { onProgress: 1 as never }),
      /options\.onProgress/,
    );
    assert.throws(() => pool.submit(whoami, [], 5 as never), /options/);
    assert.throws(
      () => pool.submit(whoami, [], { nope: 1 } as never),
      /nope/,
    );
    await assert.rejects(pool.submit(fail, ["no good"]).result, /no good/);
  },
);

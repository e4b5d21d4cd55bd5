// Pool progress: a task's taskProgress(value) reaches its caller's
// onProgress, in order, before the task's promise settles.
import assert from "node:assert/strict";
import { test } from "node:test";
import { taskProgress, taskSignal } from "../../mod.ts";
import { count, pooled, until, whoami } from "./_pool.ts";

pooled(
  "progress values arrive in order, all before the result",
  { maxWorkers: 2 },
  async (pool) => {
    const seen: number[][] = [[], []];
    const settled: number[] = [];
    await Promise.all([0, 1].map((i) =>
      pool.runWith(count, [100], {
        onProgress: (value) => void seen[i].push(value as number),
      }).then((result) => {
        assert.equal(result, "done");
        settled.push(seen[i].length);
      })
    ));
    const expected = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.deepEqual(seen, [expected, expected]);
    assert.deepEqual(settled, [100, 100]);
  },
);

pooled(
  "a function task sends progress too; without onProgress it goes nowhere",
  { maxWorkers: 1 },
  async (pool) => {
    const seen: unknown[] = [];
    const result = await pool.runWith(
      () => {
        taskProgress({ step: "a" });
        taskProgress({ step: "b" });
        return 2;
      },
      [],
      { onProgress: (value) => seen.push(value) },
    );
    assert.equal(result, 2);
    assert.deepEqual(seen, [{ step: "a" }, { step: "b" }]);
    assert.equal(await pool.run(count, 5), "done");
  },
);

pooled(
  "an onProgress that throws cancels its task with that error; the worker stays warm",
  { maxWorkers: 1, cancelGrace: 60_000 },
  async (pool) => {
    const [before] = await pool.run(whoami);
    const wrong = new Error("onProgress broke");
    const running = pool.runWith(
      async () => {
        const signal = taskSignal();
        taskProgress(1);
        if (!signal.aborted) {
          await new Promise((resolve) =>
            signal.addEventListener("abort", resolve)
          );
        }
        return "cancelled";
      },
      [],
      {
        onProgress: () => {
          throw wrong;
        },
      },
    );
    await assert.rejects(running, (e) => e === wrong);
    await until(() => pool.stats().running === 0);
    const [after] = await pool.run(whoami);
    assert.equal(after, before);
    assert.equal(pool.stats().cancelled, 1);
  },
);

pooled(
  "a progress value that cannot be cloned fails its task, naming the cause",
  { maxWorkers: 1 },
  async (pool) => {
    await assert.rejects(
      pool.runWith(
        () => {
          taskProgress(() => 1);
          return "sent";
        },
        [],
        { onProgress: () => {} },
      ),
      /Cannot send taskProgress\(value\): .*clone/i,
    );
    assert.equal(await pool.run(count, 1), "done");
  },
);

test("taskProgress() outside a pool task says where it works", () => {
  assert.throws(
    () => taskProgress(1),
    /Cannot send taskProgress\(\): no pool task is running/,
  );
});

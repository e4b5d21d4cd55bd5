// Pool stats: retried, utilization and run/wait-time percentiles agree with
// what ran (lower bounds from the tasks' own durations; a loaded machine
// only makes the times longer).
import assert from "node:assert/strict";
import { Pool } from "../../mod.ts";
import { test } from "node:test";
import { blockUntil, gate, pooled, spin, until } from "./_pool.ts";

// Deno may coarsen performance.now(): the slack allowed below a bound.
const SLACK = 2;

test("a fresh pool's times are 0", async () => {
  const pool = new Pool();
  const stats = pool.stats();
  assert.equal(stats.utilization, 0);
  assert.deepEqual(stats.runTime, { p50: 0, p90: 0, p99: 0 });
  assert.deepEqual(stats.waitTime, { p50: 0, p90: 0, p99: 0 });
  assert.equal(stats.retried, 0);
  await pool.close();
});

test(
  "run and wait percentiles and utilization follow what ran: five 30 ms tasks on one worker",
  async () => {
    const before = performance.now();
    const pool = new Pool({ maxWorkers: 1 });
    try {
      await Promise.all(Array.from({ length: 5 }, () => pool.run(spin, 30)));
      const { runTime, waitTime, utilization, completed } = pool.stats();
      const age = performance.now() - before;
      assert.equal(completed, 5);
      // Each ran at least 30 ms; percentiles are ordered.
      assert.ok(runTime.p50 >= 30 - SLACK, JSON.stringify(runTime));
      assert.ok(runTime.p50 <= runTime.p90 && runTime.p90 <= runTime.p99);
      // The k-th waited for the k-1 before it: 0, ≥30, ≥60, ≥90, ≥120 ms;
      // nearest rank over five: p50 is the third, p90 and p99 the fifth.
      assert.ok(waitTime.p50 >= 60 - 2 * SLACK, JSON.stringify(waitTime));
      assert.ok(waitTime.p90 >= 120 - 4 * SLACK, JSON.stringify(waitTime));
      assert.equal(waitTime.p99, waitTime.p90);
      // Busy at least 150 ms of a capacity of 1 worker × at most `age`.
      assert.ok(utilization <= 1, `${utilization}`);
      assert.ok(utilization >= (150 - 5 * SLACK) / age, `${utilization}`);
    } finally {
      await pool.destroy();
    }
  },
);

pooled(
  "a running task counts toward utilization before it returns; capacity is maxWorkers",
  { maxWorkers: 2 },
  async (pool) => {
    const blocker = gate();
    const running = pool.run(blockUntil, blocker.buffer);
    // Would wait for ever if only finished tasks counted.
    await until(() => {
      const { running, utilization } = pool.stats();
      return running === 1 && utilization > 0;
    });
    blocker.open();
    await running;
    // One worker of two was busy at most the pool's age: at most a half.
    const { utilization } = pool.stats();
    assert.ok(utilization > 0 && utilization <= 0.5, `${utilization}`);
  },
);

pooled(
  "the percentiles cover the last 1024 attempts: older ones leave the window",
  { maxWorkers: 2 },
  async (pool) => {
    await Promise.all(Array.from({ length: 20 }, () => pool.run(spin, 100)));
    assert.ok(pool.stats().runTime.p99 >= 100 - SLACK);
    // Kept for ever, the 20 slow ones would be the top 2% of 1044: p99.
    for (let i = 0; i < 8; i++) {
      await Promise.all(Array.from({ length: 128 }, () => pool.run(spin, 0)));
    }
    const { runTime, completed } = pool.stats();
    assert.equal(completed, 20 + 1024);
    assert.ok(runTime.p99 < 100, JSON.stringify(runTime));
  },
);

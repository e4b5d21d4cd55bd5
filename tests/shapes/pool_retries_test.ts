// Pool retries: a task that threw runs again after an exponential backoff,
// while retryIf agrees; the final error carries every attempt's error.
// Backoff is checked by the attempts' recorded start times (lower bounds
// only: a loaded machine makes waits longer, never shorter).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Pool, taskSignal, WorkerError } from "../../mod.ts";
import { die, flaky, pooled, until } from "./_pool.ts";

// Timers may fire up to a millisecond early against performance.now(), and
// Deno may coarsen that clock: the slack allowed below a bound.
const SLACK = 2;

function shared(attempts: number) {
  const calls = new SharedArrayBuffer(4);
  const stamps = new SharedArrayBuffer(8 * attempts);
  return {
    calls,
    stamps,
    count: () => Atomics.load(new Int32Array(calls), 0),
    gaps: () => {
      const at = [...new Float64Array(stamps)];
      return at.slice(1).map((t, i) => t - at[i]);
    },
  };
}

pooled(
  "a task that throws is retried with exponential backoff (jitter 0: delay × factor^(n-1)) until it returns",
  { maxWorkers: 1 },
  async (pool) => {
    const s = shared(4);
    const value = await pool.runWith(flaky, [s.calls, s.stamps, 4], {
      retries: 3,
      backoff: { delay: 30, factor: 2, jitter: 0 },
    });
    assert.equal(value, 4);
    const gaps = s.gaps();
    for (const [i, least] of [30, 60, 120].entries()) {
      assert.ok(gaps[i] >= least - SLACK, `gap ${i}: ${gaps} below ${least}`);
    }
    const stats = pool.stats();
    assert.equal(stats.retried, 3);
    assert.equal(stats.completed, 1);
    assert.equal(stats.failed, 0);
  },
);

pooled(
  "jitter draws each wait in [d × (1 - jitter), d], and maxDelay caps d",
  { maxWorkers: 1 },
  async (pool) => {
    const s = shared(3);
    await pool.runWith(flaky, [s.calls, s.stamps, 3], {
      retries: 2,
      backoff: { delay: 40, factor: 1, jitter: 0.5 },
    });
    for (const gap of s.gaps()) assert.ok(gap >= 20 - SLACK, `${s.gaps()}`);
    // Uncapped, the waits would be 100 s and 200 s: the test would time out.
    const c = shared(3);
    await pool.runWith(flaky, [c.calls, c.stamps, 3], {
      retries: 2,
      backoff: { delay: 100_000, maxDelay: 20, jitter: 0 },
    });
    for (const gap of c.gaps()) assert.ok(gap >= 20 - SLACK, `${c.gaps()}`);
  },
);

pooled(
  "when every attempt throws, the task rejects with an AggregateError of each attempt's error in order, its cause the last",
  { maxWorkers: 1 },
  async (pool) => {
    const s = shared(3);
    const error = await pool.runWith(flaky, [s.calls, s.stamps, 0], {
      retries: 2,
      backoff: { delay: 1 },
    }).catch((e) => e);
    assert.ok(error instanceof AggregateError, String(error));
    assert.match(
      error.message,
      /failed 3 attempts; the last: attempt 3 failed/,
    );
    assert.deepEqual(
      error.errors.map((e: Error) => [e.constructor, e.message]),
      [1, 2, 3].map((n) => [RangeError, `attempt ${n} failed`]),
    );
    assert.equal(error.cause, error.errors[2]);
    assert.equal(s.count(), 3);
    const stats = pool.stats();
    assert.equal(stats.failed, 1);
    assert.equal(stats.retried, 2);
  },
);

pooled(
  "retryIf(error, attempt) decides each retry; one attempt rejects with its own error; a throwing retryIf rejects with what it threw",
  { maxWorkers: 1 },
  async (pool) => {
    const seen: [string, number][] = [];
    const s = shared(5);
    const error = await pool.runWith(flaky, [s.calls, s.stamps, 0], {
      retries: 4,
      backoff: { delay: 1 },
      retryIf: (e, attempt) => {
        seen.push([(e as Error).message, attempt]);
        return attempt < 2;
      },
    }).catch((e) => e);
    assert.deepEqual(seen, [["attempt 1 failed", 1], ["attempt 2 failed", 2]]);
    assert.ok(error instanceof AggregateError);
    assert.equal(error.errors.length, 2);

    const once = shared(1);
    await assert.rejects(
      pool.runWith(flaky, [once.calls, once.stamps, 0], {
        retries: 3,
        retryIf: (e) => !(e instanceof RangeError),
      }),
      (e) => e instanceof RangeError && e.message === "attempt 1 failed",
    );

    const wrong = new Error("retryIf broke");
    const thrown = shared(1);
    await assert.rejects(
      pool.runWith(flaky, [thrown.calls, thrown.stamps, 0], {
        retries: 3,
        retryIf: () => {
          throw wrong;
        },
      }),
      (e) => e === wrong,
    );
    assert.equal(thrown.count(), 1);
  },
);

pooled(
  "a cancelled task is not retried: neither while it runs nor during its backoff",
  { maxWorkers: 1, cancelGrace: 60_000 },
  async (pool) => {
    const stop = new AbortController();
    const running = pool.runWith(
      async () => {
        const signal = taskSignal();
        // The cancel may come before the task looks at its signal.
        if (!signal.aborted) {
          await new Promise((resolve) =>
            signal.addEventListener("abort", resolve)
          );
        }
        throw signal.reason;
      },
      [],
      { signal: stop.signal, retries: 3, backoff: { delay: 1 } },
    );
    await until(() => pool.stats().running === 1);
    stop.abort(new Error("stop running"));
    await assert.rejects(running, /stop running/);
    await until(() => pool.stats().running === 0);

    const s = shared(2);
    const later = new AbortController();
    const waiting = pool.runWith(flaky, [s.calls, s.stamps, 2], {
      signal: later.signal,
      retries: 1,
      backoff: { delay: 60_000, jitter: 0 },
    });
    await until(() => s.count() === 1 && pool.stats().running === 0);
    later.abort(new Error("stop waiting"));
    await assert.rejects(waiting, /stop waiting/);
    assert.equal(s.count(), 1);
    const stats = pool.stats();
    assert.equal(stats.retried, 0);
    assert.equal(stats.cancelled, 2);
  },
);

pooled(
  "a worker's death is not retried (it is not the task's error)",
  { maxWorkers: 1 },
  async (pool) => {
    await assert.rejects(pool.runWith(die, [], { retries: 3 }), WorkerError);
    assert.equal(pool.stats().retried, 0);
  },
);

test("close() waits for a task in its backoff; destroy() rejects it", async () => {
  const pool = new Pool({ maxWorkers: 1 });
  const s = shared(2);
  const retried = pool.runWith(flaky, [s.calls, s.stamps, 2], {
    retries: 1,
    backoff: { delay: 30, jitter: 0 },
  });
  await until(() => s.count() === 1);
  await pool.close();
  assert.equal(await retried, 2);

  const other = new Pool({ maxWorkers: 1 });
  const t = shared(2);
  const waiting = other.runWith(flaky, [t.calls, t.stamps, 2], {
    retries: 1,
    backoff: { delay: 60_000, jitter: 0 },
  });
  await until(() => t.count() === 1 && other.stats().running === 0);
  const rejected = assert.rejects(waiting, /Pool "pool" was destroyed/);
  await other.destroy();
  await rejected;
  assert.equal(t.count(), 1);
});

test("bad retry options are errors naming the option", async () => {
  const pool = new Pool();
  const buffer = new ArrayBuffer(8);
  assert.throws(
    () =>
      pool.runWith((b: ArrayBuffer) => b, [buffer], {
        retries: 1,
        transfer: [buffer],
      }),
    /options\.retries with moved arguments/,
  );
  assert.equal(buffer.byteLength, 8);
  assert.throws(
    () => pool.runWith(() => 1, [], { retries: 1.5 }),
    /options\.retries must be an integer/,
  );
  assert.throws(
    () => pool.runWith(() => 1, [], { retryIf: 1 as never }),
    /options\.retryIf must be a function/,
  );
  assert.throws(
    () => pool.runWith(() => 1, [], { backoff: { jitter: 2 } }),
    /options\.backoff\.jitter must be between 0 and 1/,
  );
  assert.throws(
    () => pool.runWith(() => 1, [], { backoff: { dealy: 2 } as never }),
    /options\.backoff\.dealy is not an option; the options are delay/,
  );
  assert.throws(
    () => pool.runWith(() => 1, [], { backoff: { factor: 0.5 } }),
    /options\.backoff\.factor must be at least 1/,
  );
  await pool.close();
});

// pool.map / pool.imap: a task over inputs on the pool's warm workers, in
// chunks, lazily.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Pool } from "../../mod.ts";
import { echo, fail, gate, pooled, until, whoami } from "./_pool.ts";

pooled(
  "pool.map keeps input order over chunks, on the same warm workers",
  { maxWorkers: 2 },
  async (pool) => {
    const inputs = Array.from({ length: 50 }, (_, i) => i);
    assert.deepEqual(
      await pool.map((x: number) => x * x, inputs, { chunkSize: 7 }),
      inputs.map((x) => x * x),
    );
    const ids = await pool.map(whoami, [1, 2, 3, 4, 5, 6]);
    assert.ok(new Set(ids.map(([id]) => id)).size <= 2);
    assert.equal(pool.stats().workers <= 2, true);
    // 50 inputs over 2 workers: chunks of 7 make 8 tasks, not 50.
    assert.ok(pool.stats().completed <= 8 + 6, `${pool.stats().completed}`);
  },
);

pooled(
  "pool.imap yields in order, or as chunks complete with ordered: false; async iterables too",
  { maxWorkers: 2 },
  async (pool) => {
    const ordered: number[] = [];
    for await (const n of pool.imap(echo, [3, 1, 2], { chunkSize: 1 })) {
      ordered.push(n as number);
    }
    assert.deepEqual(ordered, [3, 1, 2]);
    // The first input blocks until the others came back: only an
    // as-completed order can yield them first.
    const blocker = gate();
    const seen: unknown[] = [];
    const slow = (g: SharedArrayBuffer | number) => {
      if (typeof g === "number") return g;
      const cell = new Int32Array(g);
      while (Atomics.load(cell, 0) === 0) Atomics.wait(cell, 0, 0, 50);
      return "slow";
    };
    async function* inputs() {
      yield blocker.buffer;
      yield 1;
      yield 2;
    }
    for await (
      const value of pool.imap(slow, inputs(), { ordered: false, chunkSize: 1 })
    ) {
      seen.push(value);
      if (seen.length === 2) blocker.open();
    }
    assert.deepEqual(seen.slice(0, 2).sort(), [1, 2]);
    assert.equal(seen[2], "slow");
  },
);

pooled(
  "imap pulls inputs lazily: an endless input, left after five results, was read a bounded amount and closed",
  { maxWorkers: 2 },
  async (pool) => {
    let pulled = 0;
    let closed = false;
    function* endless() {
      try {
        for (;;) yield pulled++;
      } finally {
        closed = true;
      }
    }
    const got: unknown[] = [];
    for await (const n of pool.imap(echo, endless(), { chunkSize: 3 })) {
      got.push(n);
      if (got.length === 5) break;
    }
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
    assert.ok(closed);
    // At most 2 × maxWorkers chunks of 3 in flight, plus those yielded.
    assert.ok(pulled <= 2 * 2 * 3 + 3, `${pulled}`);
    await until(() => pool.stats().running === 0);
  },
);

pooled(
  "a failing input rejects the map with its error; a signal stops it with its reason",
  { maxWorkers: 2 },
  async (pool) => {
    await assert.rejects(
      pool.map(
        (x: number) => {
          if (x === 7) throw new RangeError("seven");
          return x;
        },
        Array.from({ length: 20 }, (_, i) => i),
        { chunkSize: 2 },
      ),
      (e) => e instanceof RangeError && e.message === "seven",
    );
    const stop = new AbortController();
    const reason = new Error("enough");
    stop.abort(reason);
    await assert.rejects(
      pool.map(echo, [1, 2, 3], { signal: stop.signal }),
      (e) => e === reason,
    );
    assert.deepEqual(await pool.map(echo, ["still", "warm"]), [
      "still",
      "warm",
    ]);
    await assert.rejects(pool.map(fail, ["once"]), /once/);
  },
);

test("bad map arguments are errors naming the cause", async () => {
  const pool = new Pool();
  assert.throws(
    () => pool.map(echo, 42 as never),
    /Cannot map over a pool: inputs must be an array, iterable or async iterable, received number 42/,
  );
  assert.throws(
    () => pool.imap(echo, [1], { chunkSize: 0 }),
    /options\.chunkSize must be at least 1/,
  );
  assert.throws(
    () => pool.imap(echo, [1], { ordered: "yes" as never }),
    /options\.ordered must be a boolean/,
  );
  assert.throws(
    () => pool.map(echo, [1], { chunksize: 2 } as never),
    /options\.chunksize is not an option/,
  );
  assert.deepEqual(await pool.map(echo, []), []);
  await pool.close();
  assert.throws(() => pool.map(echo, [1]), /pool "pool" is closed/);
});

pooled(
  "pool.map names an input that cannot be cloned by its place in all the inputs, not in its chunk",
  { maxWorkers: 1 },
  async (pool) => {
    await assert.rejects(
      pool.map((x: unknown) => typeof x, [1, 2, 3, 4, () => 5], {
        chunkSize: 2,
      }),
      (error: Error) =>
        error instanceof TypeError &&
        /^Cannot run a pool task with input 5: value \(function/.test(
          error.message,
        ),
    );
    // The pool goes on.
    assert.deepEqual(await pool.map((x: number) => x + 1, [1, 2]), [2, 3]);
  },
);

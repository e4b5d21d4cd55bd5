import assert from "node:assert/strict";
import { test } from "node:test";
import { Feeder, feederSettings, task } from "../mod.ts";
import { here, runScript } from "./_helpers.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("./fixtures/tasks.ts");
type Item = { n: number; wait?: number };
type Report = [n: number, worker: number, call: number];
const reader = task<Tasks, "feedReader">(tasks, "feedReader");
const context = task<Tasks, "feedContext">(tasks, "feedContext");

/** Resolves once `count` reports came in. */
function collector(count: number) {
  const got: Report[] = [];
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  return {
    got,
    all,
    onResult: (value: unknown) => {
      got.push(value as Report);
      if (got.length === count) done();
    },
  };
}

test("the writer is asked only when the queue is low, never past maxQueueSize; null makes it sleep", async () => {
  const asked: [desired: number, at: number, gaveNull: boolean][] = [];
  let next = 0;
  const c = collector(40);
  const feeder = new Feeder<Item>("lowwater", {
    writer: (desired) => {
      const done = next >= 40;
      asked.push([desired, performance.now(), done]);
      if (done) return null;
      return Array.from(
        { length: Math.min(desired, 40 - next) },
        () => ({ n: next++, wait: 5 }),
      );
    },
    reader,
    onResult: c.onResult,
    settings: {
      numWorkers: 2,
      maxQueueSize: 8,
      lookupBlockSize: 5,
      emptyQueueSleepTime: 0.2,
      // A last block that fills the queue makes the writer sleep this long.
      fullQueueSleepTime: 0.05,
    },
  });
  const running = feeder.main();
  await c.all;
  // Until the writer has answered null twice (so it was asked after a null).
  const deadline = performance.now() + 10_000;
  while (
    asked.filter(([, , gaveNull]) => gaveNull).length < 2 &&
    performance.now() < deadline
  ) await new Promise((r) => setTimeout(r, 50));
  feeder.stop();
  const { stats, unread } = await running;
  assert.equal(stats.written, 40);
  assert.equal(stats.read, 40);
  assert.deepEqual(unread, []);
  assert.ok(
    asked.every(([desired]) => desired >= 1 && desired <= 5),
    "never more than a block, nor past the room",
  );
  // After each empty answer, the next ask waits emptyQueueSleepTime.
  const afterNull = asked.filter((_, i) => i > 0 && asked[i - 1][2]).map((
    [, at],
    k,
  ) => [at, k]);
  assert.ok(
    afterNull.length >= 1,
    "the writer was asked again after an empty answer",
  );
  for (let i = 1; i < asked.length; i++) {
    if (asked[i - 1][2]) {
      assert.ok(
        asked[i][1] - asked[i - 1][1] >= 150,
        "it slept after an empty answer",
      );
    }
  }
});

test("duplicates inside preventRequeuingTime are dropped, and accepted after it", async () => {
  let round = 0;
  const feeder = new Feeder<Item>("dedupe", {
    // The same item every other call; a null answer sleeps 0.1 s between them.
    writer: () => (++round <= 12 && round % 2 ? [{ n: 1 }] : null),
    key: (item) => item.n,
    reader,
    settings: {
      numWorkers: 1,
      preventRequeuingTime: 0.3,
      emptyQueueSleepTime: 0.1,
      lookupBlockSize: 1,
    },
  });
  const running = feeder.main();
  // Until the writer has been asked all 12 times (about 0.6 s of sleeps).
  const deadline = performance.now() + 10_000;
  while (round < 12 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  feeder.stop();
  const { stats } = await running;
  assert.ok(stats.duplicates >= 1, `duplicates ${stats.duplicates}`);
  assert.ok(
    stats.written >= 2,
    `written ${stats.written}: accepted again after the window`,
  );
  assert.equal(stats.written + stats.duplicates, 6);
});

test("a worker is recycled after maxJobsPerWorker items, and its context() runs again", async () => {
  let next = 0;
  const c = collector(12);
  const feeder = new Feeder<Item>("recycle", {
    writer: (
      desired,
    ) => (next < 12
      ? Array.from(
        { length: Math.min(desired, 12 - next) },
        () => ({ n: next++ }),
      )
      : null),
    reader,
    context,
    onResult: c.onResult,
    settings: { numWorkers: 1, maxJobsPerWorker: 4, emptyQueueSleepTime: 0.05 },
  });
  const running = feeder.main();
  await c.all;
  feeder.stop();
  const { stats } = await running;
  const workers = new Set(c.got.map(([, worker]) => worker));
  assert.ok(workers.size >= 3, `contexts seen: ${workers.size}`);
  assert.ok(
    c.got.every(([, , calls]) => calls <= 4),
    "a context never served more than maxJobsPerWorker",
  );
  assert.ok(stats.recycled >= 2);
});

test("a throwing reader does not stop the feeder: the error is reported with its item and counted", async () => {
  const errors: [unknown, Item][] = [];
  let next = -2;
  const c = collector(5);
  const feeder = new Feeder<Item>("sturdy", {
    writer: (
      desired,
    ) => (next < 5
      ? Array.from(
        { length: Math.min(desired, 5 - next) },
        () => ({ n: next++ }),
      )
      : null),
    reader,
    onResult: c.onResult,
    onError: (error, item) => errors.push([error, item]),
    settings: { emptyQueueSleepTime: 0.05 },
  });
  const running = feeder.main();
  await c.all;
  feeder.stop();
  const { stats } = await running;
  assert.deepEqual(c.got.map(([n]) => n).sort(), [0, 1, 2, 3, 4]);
  assert.equal(stats.failed, 2);
  assert.equal(errors.length, 2);
  assert.match((errors[0][0] as Error).message, /cannot read -\d/);
  assert.ok(errors[0][1].n < 0, "the item comes with its error");
});

test("settings: code wins over the environment, which wins over defaults; bad values are named", async () => {
  const process = (await import("node:process")).default;
  assert.equal(feederSettings("crawler").numWorkers, 2);
  process.env.CRAWLER_NUM_WORKERS = "5";
  process.env.CRAWLER_EMPTY_QUEUE_SLEEP_TIME = "0.5";
  try {
    const s = feederSettings("crawler");
    assert.equal(s.numWorkers, 5);
    assert.equal(s.emptyQueueSleepTime, 0.5);
    assert.equal(feederSettings("crawler", { numWorkers: 3 }).numWorkers, 3);
    process.env.CRAWLER_NUM_WORKERS = "many";
    assert.throws(
      () => feederSettings("crawler"),
      /numWorkers from CRAWLER_NUM_WORKERS must be a number, received "many"/,
    );
    process.env.CRAWLER_NUM_WORKERS = "0";
    assert.throws(() => feederSettings("crawler"), RangeError);
  } finally {
    delete process.env.CRAWLER_NUM_WORKERS;
    delete process.env.CRAWLER_EMPTY_QUEUE_SLEEP_TIME;
  }
  assert.throws(
    () => feederSettings("crawler", { maxQueueSize: -1 }),
    /settings\.maxQueueSize/,
  );
});

test("SIGINT mid-run: in-flight items finish, unread ones are reported, the process exits", async () => {
  const { stdout, stderr } = await runScript(
    here("./fixtures/feeder_sigint.ts"),
    [],
    30_000,
  );
  assert.match(stdout, /finished in flight: [1-9]/, stderr);
  assert.match(stdout, /unread: [1-9]\d*/);
  assert.match(stdout, /accounted for: true/);
});

test("a writer that gives an uncloneable item stops the feeder with a clear error, workers and all", async () => {
  const feeder = new Feeder<Item>("broken-writer", {
    writer: () => [{ n: 1, callback: () => 1 } as Item],
    reader,
    settings: { numWorkers: 1 },
  });
  await assert.rejects(
    feeder.main(),
    (e: Error) =>
      e instanceof TypeError && /queue "broken-writer:items"/.test(e.message) &&
      /function/.test(e.message),
  );
});

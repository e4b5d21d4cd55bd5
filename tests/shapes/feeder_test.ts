import assert from "node:assert/strict";
import { test } from "node:test";
import { Feeder, feederSettings, Queue, task } from "../../mod.ts";
import { startScript } from "../_child.ts";
import { here, overHttp, runScript } from "../_helpers.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("../fixtures/tasks.ts");
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

const feedTasks = here("./fixtures/feed_tasks.ts");
type FeedTasks = typeof import("../fixtures/feed_tasks.ts");

for (const kind of ["missing", "throws", "exits", "plain"]) {
  test(
    `reader workers that cannot start (${kind}): main() rejects naming the cause, after a few backed-off tries`,
    {
      // "plain": Deno without read access to workq's own files.
      skip: kind === "plain" &&
        (!("Deno" in globalThis) ||
          (overHttp && "over http workq's files are not read from disk")),
    },
    async () => {
      const { fileURLToPath } = await import("node:url");
      const deno = kind === "plain"
        ? [`--allow-read=${fileURLToPath(here("./fixtures/"))}`]
        : ["--allow-read"];
      const child = startScript(here("./fixtures/feeder_nostart.ts"), [kind], {
        deno,
      });
      await child.exit(30_000);
      const out = child.stdout();
      assert.match(
        out,
        /caught: Feeder "nostart": \d+ reader workers in a row failed to start/,
        child.stderr().slice(0, 2000),
      );
      const cause = {
        missing: /no_such_module/,
        throws: /this module cannot be loaded/,
        exits: /exited with code/,
        plain: /Requires read access/,
      }[kind]!;
      assert.match(out.split("\n").find((l) => l.startsWith("cause:"))!, cause);
      assert.match(out, /timers ran: true/);
      const replacing = child.stderr().split("\n").filter((l) =>
        /replacing it/.test(l)
      );
      assert.ok(
        replacing.length <= 10,
        `${replacing.length} "replacing" lines`,
      );
    },
  );
}

for (const mode of ["array", "gen", "async", "dupes"]) {
  for (const how of ["stop", "SIGINT", "SIGTERM"]) {
    test(`a writer with nothing new (${mode}) sleeps like a null answer; ${how} stops the feeder`, async () => {
      const child = startScript(here("./fixtures/feeder_quiet.ts"), [
        mode,
        how === "stop" ? "stop" : "signal",
      ]);
      await child.waitFor(/ready, calls: \d+/);
      if (how !== "stop") child.kill(how as "SIGINT" | "SIGTERM");
      await child.exit(20_000);
      const out = child.stdout();
      // 0.5 s of emptyQueueSleepTime 0.05 s: about ten calls, not millions.
      const calls = Number(/ready, calls: (\d+)/.exec(out)![1]);
      assert.ok(
        calls >= 1 && calls <= 100,
        `the writer was called ${calls} times`,
      );
      assert.match(out, /stopped, written: (0|[1-9]\d?),/, child.stderr());
    });
  }
}

test("a second SIGINT stops at once: readers are terminated, what they held is reported unread", async () => {
  const child = startScript(here("./fixtures/feeder_force.ts"));
  await child.waitFor(/reading \d+[\s\S]*reading \d+/);
  child.kill("SIGINT");
  // The first SIGINT is graceful: the readers (a minute per item) go on.
  await new Promise((r) => setTimeout(r, 1000));
  assert.doesNotMatch(child.stdout(), /stopped/);
  child.kill("SIGINT");
  // Well inside one item's minute, and the grace period's two.
  await child.exit(20_000);
  const m = /stopped: written (\d+) read (\d+) failed (\d+) unread (\d+)/
    .exec(child.stdout());
  assert.ok(m, child.stdout() + child.stderr());
  const [written, read, failed, unread] = m.slice(1).map(Number);
  assert.equal(written, read + failed + unread);
  assert.equal(read, 0);
  assert.ok(unread >= 2, `unread ${unread}: the items the readers held`);
});

test("stop() then stop(true) stops at once; the accounting balances", async () => {
  let next = 0;
  const out = new Queue<number>();
  const feeder = new Feeder<{ n: number; wait: number; out: Queue<number> }>(
    "forced-stop",
    {
      writer: (desired) =>
        next < 4
          ? Array.from({ length: Math.min(desired, 4 - next) }, () => ({
            n: next++,
            wait: 60_000,
            out,
          }))
          : null,
      reader: task<FeedTasks, "slowRead">(feedTasks, "slowRead"),
      onError: () => {},
      settings: {
        numWorkers: 2,
        gracefulShutdownTimeout: 120,
        emptyQueueSleepTime: 0.05,
      },
    },
  );
  const running = feeder.main();
  // Both readers hold an item (a minute each); the queue keeps the others.
  await out.get({ timeout: 20_000 });
  await out.get({ timeout: 20_000 });
  feeder.stop();
  await new Promise((r) => setTimeout(r, 300));
  feeder.stop(true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    running,
    new Promise<undefined>((resolve) =>
      timer = setTimeout(() => resolve(undefined), 20_000)
    ),
  ]);
  clearTimeout(timer);
  if (!result) {
    await running;
    assert.fail("stop(true) after stop() did not stop at once");
  }
  const { stats, unread } = result;
  assert.equal(stats.written, 4);
  assert.equal(stats.read, 0, "the readers were stopped mid-item");
  assert.equal(stats.written, stats.read + stats.failed + unread.length);
  assert.deepEqual(unread.map((item) => item.n), [0, 1, 2, 3]);
});

test("an item that kills every worker that takes it is reported to onError and counted as failed", async () => {
  let next = 0;
  const errors: [unknown, unknown][] = [];
  let reported!: () => void;
  const done = new Promise<void>((resolve) => (reported = resolve));
  let read = 0;
  const feeder = new Feeder<{ n: number; poison: number }>("poisoned", {
    writer: (desired) =>
      next < 12
        ? Array.from({ length: Math.min(desired, 12 - next) }, () => ({
          n: next++,
          poison: 5,
        }))
        : null,
    reader: task<FeedTasks, "poisonRead">(feedTasks, "poisonRead"),
    onResult: () => {
      if (++read === 11 && errors.length === 1) reported();
    },
    onError: (error, item) => {
      errors.push([error, item]);
      if (read === 11) reported();
    },
    settings: { numWorkers: 2, emptyQueueSleepTime: 0.05 },
  });
  const running = feeder.main();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ok = await Promise.race([
    done.then(() => true),
    new Promise<false>((
      resolve,
    ) => (timer = setTimeout(resolve, 30_000, false))),
  ]);
  clearTimeout(timer);
  feeder.stop(true);
  const { stats, unread } = await running;
  assert.ok(
    ok,
    `read ${read}, errors ${errors.length}, stats ${JSON.stringify(stats)}`,
  );
  assert.equal(errors.length, 1);
  assert.deepEqual(errors[0][1], { n: 5, poison: 5 });
  const error = errors[0][0] as Error;
  assert.match(error.message, /killed \d+ reader workers/);
  assert.match((error.cause as Error).message, /exited with code 1/);
  assert.equal(stats.written, 12);
  assert.equal(stats.failed, 1);
  assert.equal(stats.read, 11);
  assert.equal(stats.written, stats.read + stats.failed + unread.length);
});

test("settings from the environment are never ignored silently: a bad value names the variable; no permission is said once", async () => {
  const fixture = here("./fixtures/feeder_env.ts");
  const allowed = ["--allow-read", "--allow-env=CRAWLER_*"];
  const set = startScript(fixture, [], {
    env: { CRAWLER_NUM_WORKERS: "3" },
    deno: allowed,
  });
  assert.equal(await set.exit(), 0, set.stderr());
  assert.equal(set.stdout(), "numWorkers: 3\n".repeat(2));
  assert.doesNotMatch(set.stderr(), /allow-env/);
  const bad = startScript(fixture, [], {
    env: { CRAWLER_NUM_WORKERS: "abc" },
    deno: allowed,
  });
  await bad.exit();
  assert.match(
    bad.stdout(),
    /caught: .*numWorkers from CRAWLER_NUM_WORKERS must be a number, received "abc"/,
  );
  if (!("Deno" in globalThis)) return; // elsewhere the environment is always readable
  const denied = startScript(fixture, [], {
    env: { CRAWLER_NUM_WORKERS: "3" },
    deno: ["--allow-read"],
  });
  assert.equal(await denied.exit(), 0, denied.stderr());
  assert.equal(denied.stdout(), "numWorkers: 2\n".repeat(2));
  const warnings = denied.stderr().split("\n").filter((l) =>
    /CRAWLER_/.test(l)
  );
  assert.equal(warnings.length, 1, denied.stderr());
  assert.match(
    warnings[0],
    /Feeder "crawler": cannot read its settings from the environment \(.*CRAWLER_NUM_WORKERS.*\): not allowed\. Run Deno with --allow-env=CRAWLER_\*/,
  );
});

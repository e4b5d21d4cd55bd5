// The worker group's rules (src/shapes/workers.ts), on real workers: the
// cap on failed starts, replacement of the dead and the returned, stopping
// on a signal or an abort, and no replacement loop that starves timers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Queue, run, task, WorkerError } from "../../mod.ts";
import {
  type Death,
  MAX_FAILED_STARTS,
  WorkerGroup,
  type WorkerGroupOptions,
} from "../../src/shapes/workers.ts";
import { startScript } from "../_child.ts";
import { here } from "../_helpers.ts";

type GroupTasks = typeof import("../fixtures/group_tasks.ts");
const tasks = here("./fixtures/group_tasks.ts");
const obey = task<GroupTasks, "obey">(tasks, "obey");
const upAndExit = task<GroupTasks, "upAndExit">(tasks, "upAndExit");

/** Ends seen by a group's `ended`, and a way to wait for the n-th. */
function ends() {
  const seen: (Death | undefined)[] = [];
  const waits: [number, () => void][] = [];
  return {
    seen,
    ended(_: unknown, death: Death | undefined) {
      seen.push(death);
      for (const [n, resolve] of waits) if (seen.length >= n) resolve();
    },
    until(n: number): Promise<void> {
      return new Promise((resolve) => {
        if (seen.length >= n) resolve();
        else waits.push([n, resolve]);
      });
    },
  };
}

/**
 * Starts `count` workers of a group made with `options` and waits until it
 * gives up; then closes it. Resolves with what its `failed` was given.
 */
async function untilGivenUp(
  options: Omit<WorkerGroupOptions<unknown>, "failed">,
  count: number,
): Promise<unknown[]> {
  const failures: unknown[] = [];
  let gaveUp!: () => void;
  const given = new Promise<void>((resolve) => (gaveUp = resolve));
  const group = new WorkerGroup({
    ...options,
    failed: (error) => (failures.push(error), gaveUp()),
  });
  group.start(count);
  await given;
  await group.close();
  group.stop();
  return failures;
}

test(`${MAX_FAILED_STARTS} failed starts in a row give up once, naming the cause; each retry waits longer`, async () => {
  const never = task(here("./fixtures/throws_at_import.ts"), "never");
  const delays: number[] = [];
  let spawns = 0;
  const failures = await untilGivenUp({
    name: "Test",
    noun: "test workers",
    spawn: (up) => (spawns++, run(never, up)),
    replacing: (_, delay) => delays.push(delay),
  }, 2);
  assert.equal(failures.length, 1, "reported once");
  const error = failures[0] as Error;
  assert.match(
    error.message,
    /^Test: 5 test workers in a row failed to start; the last: .*this module cannot be loaded/,
  );
  assert.match((error.cause as Error).message, /this module cannot be loaded/);
  assert.deepEqual(delays, [50, 100, 200, 400]);
  assert.ok(spawns <= MAX_FAILED_STARTS + 1, `${spawns} workers started`);
});

test("a dead worker is replaced, a returned one too (recycled); none once closed", async () => {
  // An order that killed its worker is not handed to the next one.
  const orders = new Queue<string>({ maxAttempts: 1 });
  const log = ends();
  const delays: number[] = [];
  let spawns = 0;
  const group = new WorkerGroup({
    name: "Test",
    spawn: (up) => (spawns++, run(obey, up, orders)),
    ended: log.ended,
    replacing: (_, delay) => delays.push(delay),
  });
  group.start(2);
  await orders.put("exit");
  await log.until(1);
  assert.equal(log.seen[0]?.up, true, "it had come up");
  assert.ok(log.seen[0]?.error instanceof WorkerError);
  assert.deepEqual(delays, [0], "a worker that was up is replaced at once");
  await orders.put("return");
  await log.until(2);
  assert.equal(log.seen[1], undefined, "returned");
  await group.close({ end: () => orders.end() });
  group.stop();
  assert.equal(spawns, 4, "two started, two replacements, none after close");
  assert.deepEqual(log.seen.slice(2), [undefined, undefined]);
});

test("an abort stops the group: onStop is told, no replacement, close ends them all", async () => {
  const orders = new Queue<string>();
  const controller = new AbortController();
  const whys: string[] = [];
  let spawns = 0;
  const handles: ReturnType<typeof run>[] = [];
  const group = new WorkerGroup({
    name: "Test",
    spawn: (up) => {
      spawns++;
      const handle = run(obey, up, orders);
      handles.push(handle);
      return handle;
    },
    abort: controller.signal,
    onStop: (why) => whys.push(why),
  });
  group.start(3);
  controller.abort(new Error("user cancelled"));
  assert.deepEqual(whys, ["abort"]);
  await group.close();
  group.stop();
  for (const handle of handles) {
    const error = await handle.result.then(() => undefined, (e) => e);
    assert.equal((error as WorkerError).reason, "terminated");
  }
  assert.equal(spawns, 3, "none replaced");

  const already = new WorkerGroup({
    name: "Test",
    spawn: (up) => (spawns++, run(obey, up, orders)),
    abort: AbortSignal.abort(),
    onStop: (why) => whys.push(why),
  });
  already.start(2);
  already.stop();
  assert.deepEqual(whys, ["abort", "abort"], "told at once");
  assert.equal(spawns, 3, "an aborted group starts none");
});

test("workers that die as soon as they are up are replaced endlessly, and timers still run", async () => {
  const log = ends();
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  const group = new WorkerGroup({
    name: "Test",
    spawn: (up) => run(upAndExit, up),
    ended: log.ended,
  });
  group.start(2);
  await log.until(6);
  clearInterval(ticker);
  await group.close();
  group.stop();
  assert.ok(log.seen.slice(0, 6).every((d) => d?.up), "each had come up");
  assert.ok(ticks > 0, "the timer ran");
});

test("SIGINT and SIGTERM stop the group, counted; after stop() the process exits by itself", async () => {
  const child = startScript(here("./fixtures/group_signals.ts"));
  await child.waitFor(/ready/);
  child.kill("SIGTERM");
  await child.waitFor(/stop: SIGTERM 1/);
  child.kill("SIGINT");
  assert.equal(await child.exit(20_000), 0, child.stderr());
  assert.match(child.stdout(), /stop: SIGINT 2\nclosed, spawns: 2\n/);
});

test("giving up names the reason most failed starts gave, and the last one when it differs", async () => {
  const throws = task(here("./fixtures/throws_at_import.ts"), "never");
  const missing = task(here("./fixtures/no_such_module.ts"), "never");
  let spawns = 0;
  // One worker at a time, so that the failures come in the order of spawns:
  // four for one reason, then one for another.
  const failures = await untilGivenUp({
    name: "Test",
    spawn: (up) => run(++spawns < MAX_FAILED_STARTS ? throws : missing, up),
  }, 1);
  const error = failures[0] as Error;
  assert.match(
    error.message,
    /^Test: 5 workers in a row failed to start; the last: .*no_such_module.*; 4 of them: .*this module cannot be loaded/,
  );
  assert.match((error.cause as Error).message, /this module cannot be loaded/);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { Queue, run, task, WorkerError } from "../../mod.ts";
import { here } from "../_helpers.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("../fixtures/tasks.ts");

test("run() with a function task returns its result; the handle is awaitable", async () => {
  const handle = run((a: number, b: number) => a + b, 2, 3);
  assert.match(handle.name, /-\d+$/);
  assert.equal(handle.alive, true);
  assert.equal(await handle.result, 5);
  assert.equal(await handle, 5);
  assert.equal(handle.alive, false);
});

test("run() with a module task: imports and module state work", async () => {
  const counted = task<Tasks, "counted">(tasks, "counted");
  assert.deepEqual(await Promise.all([run(counted), run(counted)]), [1, 1]);
  const handle = run(task<Tasks, "counted">(tasks, "counted"));
  assert.match(handle.name, /^counted-\d+$/);
  await handle;
});

test("a task that throws rejects with its name, message, stack and cause, naming the worker", async () => {
  const handle = run(task<Tasks, "fail">(tasks, "fail"), "bad input");
  const error = await handle.result.then(
    () => undefined,
    (e) => e as Error & { worker?: string; cause?: Error },
  );
  assert.ok(error instanceof RangeError);
  assert.equal(error.name, "RangeError");
  assert.equal(error.message, "bad input");
  assert.match(
    error?.stack ?? "",
    /tasks\.[jt]s/,
    "the worker's stack is kept",
  );
  assert.match(error?.stack ?? "", new RegExp(`workq worker "${handle.name}"`));
  assert.equal(error.worker, handle.name);
  assert.equal(error.cause?.message, "the cause");
});

test("a function task that touches an undefined name says so and points to task()", async () => {
  const outside = [41];
  const error = await run(() => outside[0] + 1).result.then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof ReferenceError);
  assert.match(error.message, /outside/);
  assert.match(error.message, /task\(url, name\)/);
});

test("a worker that ends itself mid-task rejects with a WorkerError", async () => {
  const q = new Queue<number>();
  await q.put(1);
  const error = await run(
    task<Tasks, "takeOneAndExit">(tasks, "takeOneAndExit"),
    q,
  ).result.then(() => undefined, (e) => e);
  assert.ok(error instanceof WorkerError, String(error));
  assert.equal(error.reason, "exit");
  assert.match(error.message, /takeOneAndExit-\d+/);
});

test("an error thrown outside the task (a timer) rejects as a crash, without killing this process", async () => {
  const error = await run(task<Tasks, "crashLater">(tasks, "crashLater")).result
    .then(() => undefined, (e) => e);
  assert.ok(error instanceof WorkerError, String(error));
  assert.equal(error.reason, "crash");
  assert.match(error.message, /boom from a timer/);
});

test("terminate() stops a running worker and rejects its result", async () => {
  const handle = run(() => new Promise(() => {}));
  await new Promise((r) => setTimeout(r, 50));
  await handle.terminate();
  assert.equal(handle.alive, false);
  const error = await handle.result.then(
    () => undefined,
    (e) => e as Error & { worker?: string; cause?: Error },
  );
  assert.ok(error instanceof WorkerError);
  assert.equal(error.reason, "terminated");
});

test("a worker that dies holding items gives them back; another worker gets them", async () => {
  const q = new Queue<number>();
  const out = new Queue<number>();
  await q.put(10);
  await q.put(20);
  const dying = run(task<Tasks, "takeOneAndHang">(tasks, "takeOneAndHang"), q);
  while (q.size > 1) await new Promise((r) => setTimeout(r, 5)); // it took one
  await dying.terminate();
  await q.end();
  const survivor = run(task<Tasks, "sum">(tasks, "sum"), q, out);
  assert.equal(
    await survivor,
    2,
    "the survivor reads both items the dead worker held",
  );
  assert.equal((await out.get()).data, 30);
});

test("bad arguments to run() throw TypeError naming the cause", () => {
  assert.throws(
    () => run(42 as never as () => void),
    /expected a function or task\(url, name\), received number/,
  );
  assert.throws(() => task("./relative.ts", "x"), /absolute URL/);
  assert.throws(() => task(tasks, ""), /non-empty string/);
  assert.throws(
    () => run((f: unknown) => f, (() => 1) as never),
    (e: Error) =>
      e instanceof TypeError && /argument 1/.test(e.message) &&
      /function/.test(e.message),
  );
});

test("a missing export is reported clearly", async () => {
  await assert.rejects(
    run(task(tasks, "nope")).result,
    /no exported function "nope"/,
  );
});

test("a task whose result cannot be cloned rejects with a TypeError naming it", async () => {
  const error = await run(() => ({ callback: () => 1 })).result.then(
    () => undefined,
    (e) => e as Error,
  );
  assert.ok(error instanceof TypeError, String(error));
  assert.match(error.message, /return from task/);
  assert.match(error.message, /value\.callback \(function/);
});

test("a task module that does not exist rejects clearly; nothing hangs", async () => {
  const missing = task(here("./fixtures/no_such_module.ts"), "x");
  const error = await run(missing).result.then(
    () => undefined,
    (e) => e as Error,
  );
  assert.ok(error instanceof Error);
  assert.match(String(error.message), /no_such_module/);
});

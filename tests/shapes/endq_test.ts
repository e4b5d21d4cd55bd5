import assert from "node:assert/strict";
import { test } from "node:test";
import {
  endq,
  endqAndWait,
  iterMsg,
  Queue,
  run,
  task,
  WorkerError,
} from "../../mod.ts";
import { here } from "../_helpers.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("../fixtures/tasks.ts");

test("endqAndWait() ends the queue once per worker and returns their results", async () => {
  const q = new Queue<number>();
  const out = new Queue<number>();
  const workers = [1, 2, 3].map(() =>
    run(task<Tasks, "sum">(tasks, "sum"), q, out)
  );
  for (let i = 1; i <= 100; i++) await q.put(i);
  const counts = await endqAndWait(q, workers);
  assert.equal(counts.reduce((a, b) => a + b, 0), 100);
});

test("endqAndWait() never hangs on a dead worker and rejects with the first failure", async () => {
  const q = new Queue<number>();
  const out = new Queue<number>();
  const good = run(task<Tasks, "sum">(tasks, "sum"), q, out);
  const bad = run(task<Tasks, "fail">(tasks, "fail"), "broken");
  const dead = run(() => new Promise(() => {}));
  await dead.terminate();
  await q.put(5);
  const error = await endqAndWait(q, [good, bad, dead]).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof RangeError);
  assert.equal(error.message, "broken");
  assert.equal(await good, 1, "the good worker still finished its work");
  await assert.rejects(dead.result, WorkerError);
});

test("endqAndWait() accepts one handle; bad arguments are TypeErrors", async () => {
  const q = new Queue<number>();
  const w = run(async (q: Queue<number>) => {
    let n = 0;
    for await (const _ of iterMsg(q)) n++;
    return n;
  }, q);
  await q.put(1);
  assert.deepEqual(await endqAndWait(q, w), [1]);
  await assert.rejects(endqAndWait(q, [42 as never]), TypeError);
  await endq(q);
});

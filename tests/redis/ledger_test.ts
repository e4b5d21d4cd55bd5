// One commit ledger across engines: a worker that reads from one engine and
// puts into another, stopped between its put and the put's acceptance,
// loses nothing — the item it read is delivered again unless its output
// arrived. Against a real redis-server and real workers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { iterMsg, Queue, run, task } from "../../mod.ts";
import { closeQueue, redisQueue } from "../../redis.ts";
import { here } from "../_helpers.ts";
import { queueNamer, redisForTests } from "./_server.ts";

type Tasks = typeof import("./fixtures/ledger_tasks.ts");
const tasks = here("./redis/fixtures/ledger_tasks.ts");

const redis = redisForTests();
const name = queueNamer();

async function drain<T>(q: Queue<T>): Promise<T[]> {
  await q.end();
  const out: T[] = [];
  for await (const msg of iterMsg(q)) out.push(msg.data);
  return out;
}

// In every runtime here, not in the TypeScript lib the .js form is emitted with.
const waitAsync = (Atomics as unknown as {
  waitAsync(
    cell: Int32Array,
    at: number,
    value: number,
  ): { async: boolean; value: Promise<string> | string };
}).waitAsync;

// Blocks this thread until `cell[at]` is set: nothing here runs meanwhile.
function block(cell: Int32Array, at: number): void {
  for (let i = 0; i < 600 && Atomics.load(cell, at) === 0; i++) {
    Atomics.wait(cell, at, 0, 100);
  }
}

test("Redis in, in-process out: a worker stopped before the owner took its put in gets its Redis item delivered again", async () => {
  const inName = name("ledger-in");
  const setup = await redisQueue<number>(redis.url, inName, { claimIdle: 300 });
  await setup.putMany([1, 2]);
  await closeQueue(setup);
  const out = new Queue<number>({ name: "out" });
  const cell = new Int32Array(new SharedArrayBuffer(12));
  const worker = run(
    task<Tasks, "relayIntoBlockedOwner">(tasks, "relayIntoBlockedOwner"),
    redis.url,
    inName,
    out,
    cell,
  );
  // The worker read its item (a put into a queue of this thread would say
  // nothing: a put resolves before its batch is posted).
  while (Atomics.load(cell, 2) === 0) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // From here until the worker is stopped this thread (the owner of `out`)
  // takes nothing in: the worker's put of 1 is posted, not accepted.
  Atomics.store(cell, 0, 1);
  Atomics.notify(cell, 0);
  block(cell, 1);
  void worker.terminate();
  await worker.result.catch(() => {});
  const check = await redisQueue<number>(redis.url, inName, { claimIdle: 300 });
  const again = await drain(check);
  await closeQueue(check);
  const arrived = await drain(out);
  assert.ok(
    arrived.includes(1) || again.includes(1),
    `item 1 is lost: acknowledged in Redis (delivered again: [${again}]) while its output never reached the owner (out: [${arrived}])`,
  );
});

test("in-process in, Redis out: a worker stopped before its Redis put was sent gets its item delivered again", async () => {
  const outName = name("ledger-out");
  const setup = await redisQueue<number>(redis.url, outName);
  const inQ = new Queue<number>({ name: "in" });
  await inQ.put(1);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const worker = run(
    task<Tasks, "relayIntoRedisThenHang">(tasks, "relayIntoRedisThenHang"),
    redis.url,
    outName,
    inQ,
    cell,
  );
  const signalled = waitAsync(cell, 0, 0);
  if (signalled.async) await signalled.value;
  void worker.terminate();
  await worker.result.catch(() => {});
  const again = await drain(inQ);
  const arrived = await drain(setup);
  await closeQueue(setup);
  assert.ok(
    arrived.includes(1) || again.includes(1),
    `item 1 is lost: committed in-process (delivered again: [${again}]) while its Redis put never left (out: [${arrived}])`,
  );
});

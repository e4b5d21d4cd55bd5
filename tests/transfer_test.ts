import assert from "node:assert/strict";
import { test } from "node:test";
import { iterMsg, Queue, run, task, transfer } from "../mod.ts";
import { here } from "./_helpers.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("./fixtures/tasks.ts");
const MiB = 1 << 20;

test("transfer to a worker detaches the sender's buffer; the worker's result comes back moved", async () => {
  const buffer = new ArrayBuffer(8 * MiB);
  const handle = run(
    task<Tasks, "fill">(tasks, "fill"),
    transfer(buffer, [buffer]),
    9,
  );
  assert.equal(buffer.byteLength, 0, "the sender's buffer is detached");
  const bytes = await handle;
  assert.equal((bytes as Uint8Array).length, 8 * MiB);
  assert.equal((bytes as Uint8Array)[8 * MiB - 1], 9);
});

test("transfer through queues: main -> worker -> worker -> main, bytes intact, senders detached", async () => {
  const a = new Queue<ArrayBuffer>();
  const b = new Queue<ArrayBuffer>();
  const c = new Queue<ArrayBuffer>();
  const first = run(task<Tasks, "relay">(tasks, "relay"), a, b);
  const second = run(task<Tasks, "relay">(tasks, "relay"), b, c);
  const buffers = [1, 2, 3].map((v) => new Uint8Array(MiB).fill(v).buffer);
  for (const buffer of buffers) {
    await a.put(buffer, { transfer: [buffer] });
    assert.equal(buffer.byteLength, 0);
  }
  await a.end();
  assert.equal(await first, MiB * 6);
  await b.end();
  assert.equal(await second, MiB * 6);
  await c.end();
  const sums = [];
  for await (const msg of iterMsg(c)) {
    sums.push(new Uint8Array(msg.data).reduce((s, x) => s + x, 0));
  }
  assert.deepEqual(sums.sort(), [MiB, 2 * MiB, 3 * MiB]);
});

test("a worker can transfer a buffer into a queue the main thread reads", async () => {
  const q = new Queue<Uint8Array>();
  await run(async (q: Queue<Uint8Array>) => {
    const bytes = new Uint8Array(1 << 20).fill(5);
    await q.put(bytes, { transfer: [bytes.buffer] });
    if (bytes.byteLength !== 0) throw new Error("not detached in the worker");
  }, q);
  const msg = await q.get();
  assert.equal(msg.data.length, MiB);
  assert.equal(msg.data[123], 5);
});

test("transfer() rejects what cannot be marked", () => {
  assert.throws(
    () => transfer(1 as never, []),
    /must be an object, received number/,
  );
  assert.throws(() => transfer({}, "x" as never), /must be an array/);
});

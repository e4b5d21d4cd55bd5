import assert from "node:assert/strict";
import { test } from "node:test";
import { endq, iterMsg, iterSortq, Msg, Queue } from "../../mod.ts";

test("iterMsg() stops at the end marker, which the loop never sees", async () => {
  const q = new Queue<number>();
  for (const n of [1, 2, 3]) await q.put(n);
  await endq(q);
  await q.put(4);
  const seen = [];
  for await (const msg of iterMsg(q)) seen.push(msg.data);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(
    (await q.get()).data,
    4,
    "items after the marker stay for the next reader",
  );
});

test("iterSortq() yields in order, holding back items that arrive early", async () => {
  const q = new Queue<string>();
  const orders = [3, 0, 4, 1, 2, 6, 5];
  for (const o of orders) await q.put(new Msg({ data: `m${o}`, order: o }));
  await q.end();
  const seen = [];
  for await (const msg of iterSortq(q)) seen.push(msg.order);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
});

test("iterSortq() with a gap releases the held items in order at the end marker", async () => {
  const q = new Queue<string>();
  for (const o of [5, 1, 0, 4]) await q.put(new Msg({ data: "x", order: o }));
  await q.end();
  const seen = [];
  for await (const msg of iterSortq(q)) seen.push(msg.order);
  assert.deepEqual(seen, [0, 1, 4, 5]);
});

test("iterSortq() starts where it is told", async () => {
  const q = new Queue();
  for (const o of [11, 10]) await q.put(new Msg({ order: o }));
  await q.end();
  const seen = [];
  for await (const msg of iterSortq(q, 10)) seen.push(msg.order);
  assert.deepEqual(seen, [10, 11]);
  await assert.rejects(iterSortq(q, 1.5).next(), TypeError);
});

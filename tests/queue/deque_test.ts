// The ring-buffer FIFO under every queue (src/queue/deque.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Deque } from "../../src/queue/deque.ts";

function drain<T>(q: Deque<T>): T[] {
  const out: T[] = [];
  for (let v = q.shift(); v !== undefined; v = q.shift()) out.push(v);
  return out;
}

test("deque: items come out in the order pushed, across growth of the ring", () => {
  const q = new Deque<number>();
  const want = Array.from({ length: 100 }, (_, i) => i);
  for (const n of want) q.push(n);
  assert.equal(q.length, 100);
  assert.deepEqual(drain(q), want);
  assert.equal(q.length, 0);
});

test("deque: growing while wrapped around keeps the order", () => {
  const q = new Deque<number>();
  // Move the head into the middle of the ring, then fill past its size.
  for (let i = 0; i < 10; i++) q.push(-1);
  for (let i = 0; i < 10; i++) q.shift();
  const want = Array.from({ length: 40 }, (_, i) => i);
  for (const n of want) q.push(n);
  assert.deepEqual(drain(q), want);
});

test("deque: unshift puts items at the front, also when it grows the ring", () => {
  const q = new Deque<number>();
  for (let i = 0; i < 16; i++) q.push(i + 100);
  for (let i = 0; i < 20; i++) q.unshift(99 - i);
  assert.equal(q.peek(), 80);
  assert.deepEqual(drain(q), [
    ...Array.from({ length: 20 }, (_, i) => 80 + i),
    ...Array.from({ length: 16 }, (_, i) => 100 + i),
  ]);
});

test("deque: shift and peek of an empty deque give undefined", () => {
  const q = new Deque<string>();
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
  q.push("a");
  assert.equal(q.peek(), "a");
  assert.equal(q.length, 1, "peek leaves it in place");
  q.shift();
  assert.equal(q.shift(), undefined);
  assert.equal(q.length, 0);
});

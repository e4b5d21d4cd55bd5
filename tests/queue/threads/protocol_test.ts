// Packing entries into batches for the wire (src/queue/threads/protocol.ts): column
// by column, default columns left out, transfer lists collected.
import assert from "node:assert/strict";
import { test } from "node:test";
import { END } from "../../../src/msg.ts";
import type { Entry } from "../../../src/queue/entry.ts";
import { pack, unpack } from "../../../src/queue/threads/protocol.ts";

function item(d: unknown, extra: Partial<Entry> = {}): Entry {
  return { k: "", d, o: 0, a: 1, w: false, x: undefined, ...extra };
}

test("protocol: a batch of plain items is one array of their data", () => {
  const entries = [item(1), item("two"), item({ three: 3 })];
  const transfer: Transferable[] = [];
  const batch = pack(entries, transfer);
  assert.deepEqual(batch, { d: [1, "two", { three: 3 }] });
  assert.deepEqual(Object.keys(batch), ["d"], "default columns are left out");
  assert.deepEqual(transfer, []);
  assert.deepEqual(unpack(batch), entries);
});

test("protocol: non-default columns round-trip, with defaults filled in for the other entries", () => {
  const buffer = new ArrayBuffer(8);
  const entries = [
    item("plain"),
    item(undefined, { k: END }),
    item("late", { o: 7 }),
    item("again", { a: 3 }),
    item({ descriptor: 1 }, { w: true }),
    item(buffer, { x: [buffer] }),
  ];
  const transfer: Transferable[] = [];
  const batch = pack(entries, transfer);
  assert.deepEqual(batch.k, ["", END, "", "", "", ""]);
  assert.deepEqual(batch.o, [0, 0, 7, 0, 0, 0]);
  assert.deepEqual(batch.a, [1, 1, 1, 3, 1, 1]);
  assert.deepEqual(batch.w, [0, 0, 0, 0, 1, 0]);
  assert.deepEqual(batch.x, [0, 0, 0, 0, 0, [buffer]]);
  assert.deepEqual(unpack(batch), entries);
});

test("protocol: only the columns that differ from their defaults are sent", () => {
  const batch = pack([item(1), item(2, { o: 5 })], []);
  assert.deepEqual(Object.keys(batch).sort(), ["d", "o"]);
  assert.deepEqual(Object.keys(pack([item(1, { a: 2 })], [])).sort(), [
    "a",
    "d",
  ]);
});

test("protocol: strikes stay with the owner and are never sent", () => {
  const batch = pack([item(1, { a: 2, s: 1 })], []);
  assert.deepEqual(Object.keys(batch).sort(), ["a", "d"]);
  assert.deepEqual(unpack(batch), [item(1, { a: 2 })]);
});

test("protocol: packing collects every entry's transfer list, in order, and the batch moves them", () => {
  const a = new ArrayBuffer(4);
  const b = new ArrayBuffer(8);
  const c = new ArrayBuffer(16);
  const entries = [
    item(a, { x: [a] }),
    item("no transfer"),
    item([b, c], { x: [b, c] }),
  ];
  const transfer: Transferable[] = [];
  const batch = pack(entries, transfer);
  assert.deepEqual(transfer, [a, b, c]);
  // As postMessage moves them: the buffers arrive, and leave the sender.
  const moved = structuredClone(batch, { transfer });
  assert.equal(a.byteLength, 0);
  assert.equal(c.byteLength, 0);
  const out = unpack(moved);
  assert.equal((out[0].d as ArrayBuffer).byteLength, 4);
  assert.equal(out[0].x![0], out[0].d, "the list names the moved buffer");
  assert.equal(out[1].x, undefined);
  assert.deepEqual(
    (out[2].d as ArrayBuffer[]).map((buf) => buf.byteLength),
    [8, 16],
  );
});

test("protocol: an empty batch round-trips", () => {
  const batch = pack([], []);
  assert.deepEqual(batch, { d: [] });
  assert.deepEqual(unpack(batch), []);
});

// The commit ledger's rules, one per test (src/queue/ledger.ts): a finished
// read is committed only once every group of puts opened before it is
// settled; lost puts forgo the reads that waited for them; a keyed group
// does not hold back its own queue's reader.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Ledger, type Reader } from "../../src/queue/ledger.ts";

// A reader that records what the ledger told it, in order.
function reader(key?: string): Reader & { log: string[] } {
  const log: string[] = [];
  return {
    key,
    log,
    commit: (upTo) => log.push(`commit ${upTo}`),
    forgo: (upTo) => log.push(`forgo ${upTo}`),
  };
}

test("ledger: with no puts in flight a finished read is committed at once", () => {
  const ledger = new Ledger();
  const r = reader();
  ledger.finished(r, 1);
  assert.deepEqual(r.log, ["commit 1"]);
});

test("ledger: a read finished while a put is in flight waits until the put is accepted", () => {
  const ledger = new Ledger();
  const r = reader();
  const puts = ledger.begin();
  ledger.finished(r, 1);
  assert.deepEqual(r.log, []);
  puts.settle();
  assert.deepEqual(r.log, ["commit 1"]);
  assert.equal(ledger.open, 0);
});

test("ledger: a read finished before a put was made does not wait for it", () => {
  const ledger = new Ledger();
  const r = reader();
  ledger.finished(r, 1);
  ledger.begin();
  assert.deepEqual(r.log, ["commit 1"]);
});

test("ledger: each read waits only for the puts made before it", () => {
  const ledger = new Ledger();
  const r = reader();
  const a = ledger.begin();
  ledger.finished(r, 1);
  const b = ledger.begin();
  ledger.finished(r, 2);
  a.settle();
  assert.deepEqual(r.log, ["commit 1"], "2 still waits for the second put");
  b.settle();
  assert.deepEqual(r.log, ["commit 1", "commit 2"]);
});

test("ledger: puts accepted out of order commit nothing until the oldest is accepted", () => {
  const ledger = new Ledger();
  const r = reader();
  const a = ledger.begin();
  ledger.finished(r, 1);
  const b = ledger.begin();
  ledger.finished(r, 2);
  b.settle();
  assert.deepEqual(r.log, []);
  a.settle();
  assert.deepEqual(r.log, ["commit 1", "commit 2"]);
});

test("ledger: reads finished between the same puts are told once, with the latest count", () => {
  const ledger = new Ledger();
  const r = reader();
  const other = reader();
  const puts = ledger.begin();
  ledger.finished(r, 1);
  ledger.finished(other, 7);
  ledger.finished(r, 3);
  puts.settle();
  assert.deepEqual(r.log, ["commit 3"]);
  assert.deepEqual(other.log, ["commit 7"]);
});

test("ledger: a lost put forgoes the reads finished while it was in flight, not those after", () => {
  const ledger = new Ledger();
  const r = reader();
  const a = ledger.begin();
  const b = ledger.begin();
  ledger.finished(r, 1);
  a.settle(true);
  ledger.finished(r, 2); // after the loss, behind b only
  assert.deepEqual(r.log, []);
  b.settle();
  assert.deepEqual(r.log, ["forgo 1", "commit 2"]);
});

test("ledger: settling a group twice changes nothing", () => {
  const ledger = new Ledger();
  const r = reader();
  const a = ledger.begin();
  ledger.begin();
  ledger.finished(r, 1);
  a.settle();
  a.settle();
  assert.equal(ledger.open, 1);
  assert.deepEqual(r.log, []);
});

test("ledger: a keyed put does not hold back the reader of that queue, and holds back the others", () => {
  const ledger = new Ledger();
  const own = reader("q");
  const other = reader("p");
  const puts = ledger.begin("q");
  ledger.finished(own, 1);
  ledger.finished(other, 1);
  assert.deepEqual(own.log, ["commit 1"]);
  assert.deepEqual(other.log, []);
  const plain = ledger.begin();
  ledger.finished(own, 2);
  assert.deepEqual(
    own.log,
    ["commit 1"],
    "an unkeyed put holds back every reader",
  );
  plain.settle();
  assert.deepEqual(own.log, ["commit 1", "commit 2"]);
  assert.deepEqual(other.log, []);
  puts.settle();
  assert.deepEqual(other.log, ["commit 1"]);
});

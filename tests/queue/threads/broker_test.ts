// The broker's rules (see src/queue/threads/broker.ts), one test each, driven
// directly: consumers are plain objects implementing its Consumer interface,
// as owner.ts (tracked: what it holds may come back) and local.ts
// (untracked) make them, and deaths carry real Progress counters.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CLOSE, DONE, END } from "../../../src/msg.ts";
import {
  Broker,
  type Consumer,
  type Death,
} from "../../../src/queue/threads/broker.ts";
import { Deque } from "../../../src/queue/deque.ts";
import type { Entry } from "../../../src/queue/entry.ts";
import { soon } from "../../../src/schedule.ts";

function item(d: unknown, extra: Partial<Entry> = {}): Entry {
  return { k: "", d, o: 0, a: 1, w: false, x: undefined, ...extra };
}

function end(): Entry {
  return { k: END, d: undefined, o: 0, a: 1, w: false, x: undefined };
}

interface Fake extends Consumer {
  /** Every batch delivered, in order. */
  batches: Entry[][];
  /** Every entry's data delivered, in order. */
  readonly got: unknown[];
}

function fake(credit: number, held: Deque<Entry> | undefined): Fake {
  const batches: Entry[][] = [];
  return {
    credit,
    held,
    acked: 0,
    batches,
    get got() {
      return batches.flat().map((e) => e.d);
    },
    deliver(entries) {
      batches.push(entries);
    },
  };
}

/** A consumer in another thread (what it holds is tracked), like owner.ts's. */
function tracked(credit = 0): Fake {
  return fake(credit, new Deque<Entry>());
}

/** A reader in the owner's thread (nothing it takes comes back), like local.ts's. */
function untracked(credit = 0): Fake {
  return fake(credit, undefined);
}

interface Dead {
  entry: Entry;
  error: Error;
}

function broker(maxsize = 0, maxAttempts = 3): { b: Broker; dead: Dead[] } {
  const dead: Dead[] = [];
  const b = new Broker(
    "q",
    maxsize,
    maxAttempts,
    (entry, error) => dead.push({ entry, error }),
  );
  return { b, dead };
}

/**
 * Lets the broker's scheduled dispatch run: it goes out on `soon`, whose
 * callbacks run in order, so a callback queued after it runs after it (a
 * setTimeout(0) could run first on Node). Two turns: a dispatch may
 * schedule another.
 */
async function turn(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise<void>((r) => soon(r));
}

function heldData(c: Consumer): unknown[] {
  const out: unknown[] = [];
  const h = c.held!;
  for (let e = h.shift(); e !== undefined; e = h.shift()) out.push(e.d);
  return out;
}

/** Takes everything deliverable now, as a local reader would. */
function drain(b: Broker): Entry[] {
  const out: Entry[] = [];
  for (let e = b.take(); e !== undefined && e.k !== DONE; e = b.take()) {
    out.push(e);
  }
  return out;
}

const boom = new Error("the worker died");

test("broker: a consumer receives at most its credit, in batches no larger than it", async () => {
  const { b } = broker();
  const c = tracked();
  b.add(c);
  b.put([1, 2, 3, 4, 5].map((n) => item(n)));
  b.credit(c, 2);
  await turn();
  assert.deepEqual(c.got, [1, 2]);
  assert.equal(c.credit, 0);
  b.credit(c, 1);
  await turn();
  assert.deepEqual(c.batches.map((batch) => batch.length), [2, 1]);
  assert.deepEqual(c.got, [1, 2, 3]);
  assert.equal(b.size, 2, "the rest wait in the queue");
});

test("broker: without credit a consumer is sent nothing", async () => {
  const { b } = broker();
  const c = tracked();
  b.add(c);
  b.put([item(1)]);
  await turn();
  assert.equal(c.batches.length, 0);
  assert.equal(b.size, 1);
});

test("broker: items go out in order, shared among consumers with credit", async () => {
  const { b } = broker();
  const c1 = tracked(2);
  const c2 = tracked(2);
  b.add(c1);
  b.add(c2);
  b.put([1, 2, 3, 4, 5].map((n) => item(n)));
  await turn();
  assert.equal(c1.got.length, 2);
  assert.equal(c2.got.length, 2);
  // Each consumer's items keep the queue's order, and none is sent twice.
  for (const got of [c1.got, c2.got]) {
    assert.deepEqual(got, [...got].sort((x, y) => Number(x) - Number(y)));
  }
  assert.deepEqual(
    [...c1.got, ...c2.got].sort((x, y) => Number(x) - Number(y)),
    [1, 2, 3, 4],
  );
  assert.deepEqual(drain(b).map((e) => e.d), [5]);
});

test("broker: what a consumer receives is held until it acknowledges it", async () => {
  const { b } = broker();
  const c = tracked(3);
  b.add(c);
  b.put([1, 2, 3].map((n) => item(n)));
  await turn();
  assert.equal(c.held!.length, 3);
  b.ack(c, 2);
  assert.equal(c.acked, 2);
  assert.deepEqual(heldData(c), [3], "the acknowledged ones are let go");
});

test("broker: a consumer that gives back (no death) returns its unread items to the front as they were", async () => {
  const { b, dead } = broker();
  const c = tracked(3);
  b.add(c);
  b.put([1, 2, 3, 4].map((n) => item(n)));
  await turn();
  b.ack(c, 1);
  b.remove(c);
  assert.equal(c.credit, 0);
  assert.equal(c.held!.length, 0);
  const back = drain(b);
  assert.deepEqual(back.map((e) => e.d), [2, 3, 4]);
  assert.deepEqual(back.map((e) => e.a), [1, 1, 1], "attempt not raised");
  assert.deepEqual(back.map((e) => e.s ?? 0), [0, 0, 0], "no strike");
  assert.deepEqual(dead, []);
});

test("broker: a removed consumer is sent nothing more", async () => {
  const { b } = broker();
  const c = tracked(5);
  b.add(c);
  b.remove(c);
  assert.equal(c.credit, 0, "its credit is void");
  b.put([item(1)]);
  b.credit(c, 3); // a request that crossed the removal
  await turn();
  assert.equal(c.batches.length, 0);
  assert.equal(b.size, 1);
});

test("broker: a dying consumer's items: committed dropped, finished and in progress back with attempt raised, unread back as they were", async () => {
  const { b, dead } = broker();
  const c = tracked(5);
  b.add(c);
  b.put([0, 1, 2, 3, 4].map((n) => item(n)));
  await turn();
  assert.deepEqual(c.got, [0, 1, 2, 3, 4]);
  b.ack(c, 1); // item 0 acknowledged
  b.put([item(5)]);
  // It was reading item 3; 1 and 2 finished, of which only 1's outputs left.
  const death: Death = {
    error: boom,
    progress: { committed: 2, finished: 3, returned: 4 },
  };
  b.remove(c, death);
  const back = drain(b);
  assert.deepEqual(
    back.map((e) => [e.d, e.a, e.s ?? 0]),
    [
      [2, 2, 0], // finished, outputs possibly lost: again, no strike
      [3, 2, 1], // in progress: again, one strike
      [4, 1, 0], // never read: as it was
      [5, 1, 0], // queued behind them
    ],
  );
  assert.deepEqual(dead, []);
});

test("broker: without progress a dying consumer's first held item is taken as in progress, the rest as started", async () => {
  const { b } = broker();
  const c = tracked(3);
  b.add(c);
  b.put([0, 1, 2].map((n) => item(n)));
  await turn();
  b.ack(c, 1);
  b.remove(c, { error: boom, progress: undefined });
  assert.deepEqual(drain(b).map((e) => [e.d, e.a, e.s ?? 0]), [
    [1, 2, 1],
    [2, 2, 0],
  ]);
});

test("broker: an item in progress at maxAttempts deaths becomes a dead letter whose attempt is the deliveries it had", async () => {
  const { b, dead } = broker(0, 2);
  const other = item("other");
  b.put([item("bad"), other]);
  for (let death = 1; death <= 2; death++) {
    const c = tracked(1);
    b.add(c);
    await turn();
    assert.deepEqual(c.got, ["bad"]);
    assert.equal(c.batches[0][0].a, death, "attempt counts the deliveries");
    b.remove(c, {
      error: boom,
      progress: { committed: 0, finished: 0, returned: 1 },
    });
    assert.equal(dead.length, death === 2 ? 1 : 0);
  }
  assert.equal(dead[0].entry.d, "bad");
  assert.equal(dead[0].entry.a, 2);
  assert.equal(dead[0].entry.s, 2);
  assert.equal(dead[0].error, boom);
  assert.deepEqual(drain(b), [other], "the queue goes on without it");
});

test("broker: a finished item whose outputs were lost gets no strike, however often it comes back", async () => {
  const { b, dead } = broker(0, 2);
  b.put([item("done")]);
  for (let death = 1; death <= 3; death++) {
    const c = tracked(1);
    b.add(c);
    await turn();
    assert.deepEqual(c.got, ["done"]);
    b.remove(c, {
      error: boom,
      progress: { committed: 0, finished: 1, returned: 1 },
    });
  }
  assert.deepEqual(dead, []);
  assert.deepEqual(drain(b).map((e) => [e.d, e.a]), [["done", 4]]);
});

test("broker: a culprit death sets the item in progress aside at once", async () => {
  const { b, dead } = broker(0, 3);
  b.put([item("slow"), item("next")]);
  const c = tracked(2);
  b.add(c);
  await turn();
  const culprit = new Error("per-item timeout");
  b.remove(c, {
    error: culprit,
    culprit: true,
    progress: { committed: 0, finished: 0, returned: 1 },
  });
  assert.equal(dead.length, 1);
  assert.equal(dead[0].entry.d, "slow");
  assert.equal(dead[0].entry.a, 1, "it had one delivery");
  assert.equal(dead[0].error, culprit);
  // The unread one behind it is not struck.
  assert.deepEqual(drain(b).map((e) => [e.d, e.a, e.s ?? 0]), [["next", 1, 0]]);
});

test("broker: an end marker is not handed out while any data item is held", async () => {
  const { b } = broker();
  const worker = tracked(1);
  const waiter = tracked(0);
  b.add(worker);
  b.add(waiter);
  b.put([item(1), end()]);
  await turn();
  assert.deepEqual(worker.got, [1]);
  b.credit(waiter, 1);
  await turn();
  assert.equal(waiter.batches.length, 0, "item 1 could still come back");
  assert.equal(b.take(), undefined, "nor to a local reader");
  b.ack(worker, 1);
  await turn();
  assert.deepEqual(waiter.batches.flat().map((e) => e.k), [END]);
});

test("broker: items a dying consumer held go back in front of the end marker", async () => {
  const { b } = broker();
  const worker = tracked(2);
  const waiter = tracked(0);
  b.add(worker);
  b.add(waiter);
  b.put([item(1), item(2), end()]);
  await turn();
  b.credit(waiter, 5);
  await turn();
  assert.equal(waiter.batches.length, 0);
  b.remove(worker, {
    error: boom,
    progress: { committed: 0, finished: 0, returned: 1 },
  });
  await turn();
  assert.deepEqual(
    waiter.batches.flat().map((e) => e.k === END ? "end" : e.d),
    [1, 2],
    "the marker waits until these are finished",
  );
  b.ack(waiter, 2);
  await turn();
  assert.deepEqual(
    waiter.batches.flat().map((e) => e.k === END ? "end" : e.d),
    [1, 2, "end"],
  );
});

test("broker: an end marker is the last entry of its batch", async () => {
  const { b } = broker();
  const c = tracked(5);
  b.add(c);
  b.put([end(), item(1), item(2)]);
  await turn();
  assert.deepEqual(c.batches.map((batch) => batch.map((e) => e.k)), [
    [END],
    ["", ""],
  ]);
});

test("broker: an end marker held by a dying consumer goes back as it was", async () => {
  const { b, dead } = broker();
  const c = tracked(1);
  b.add(c);
  b.put([end()]);
  await turn();
  assert.deepEqual(c.got.length, 1);
  b.remove(c, {
    error: boom,
    progress: { committed: 0, finished: 0, returned: 1 },
  });
  const back = drain(b);
  assert.deepEqual(back.map((e) => [e.k, e.a, e.s ?? 0]), [[END, 1, 0]]);
  assert.deepEqual(dead, []);
});

test("broker: items taken by an untracked (same-thread) reader never hold back an end marker", async () => {
  const { b } = broker();
  const local = untracked(1);
  const other = tracked(0);
  b.add(local);
  b.add(other);
  b.put([item(1), end()]);
  await turn();
  assert.deepEqual(local.got, [1]);
  b.credit(other, 1);
  await turn();
  assert.deepEqual(other.batches.flat().map((e) => e.k), [END]);
});

test("broker: a sealed queue whose producers all closed answers every credit with a done signal", async () => {
  const { b } = broker();
  const c = tracked(3);
  b.add(c);
  b.openProducer();
  b.openProducer();
  b.put([item(1)]);
  b.seal();
  await turn();
  assert.deepEqual(c.got, [1]);
  b.put([{ ...item(undefined), k: CLOSE }]);
  b.ack(c, 1);
  await turn();
  assert.deepEqual(c.batches.length, 1, "one producer is still open");
  b.put([{ ...item(undefined), k: CLOSE }]);
  await turn();
  assert.equal(b.size, 0, "a close signal is counted, not queued");
  assert.deepEqual(c.batches[1].map((e) => e.k), [DONE, DONE]);
  assert.equal(c.credit, 0);
  assert.equal(b.take()?.k, DONE, "a local reader is told too");
});

test("broker: a queue is not done before it is sealed, though every producer closed", async () => {
  const { b } = broker();
  const asker = tracked(1);
  b.add(asker);
  b.openProducer();
  b.put([{ ...item(undefined), k: CLOSE }]);
  await turn();
  assert.equal(asker.batches.length, 0, "another producer may still come");
  assert.equal(b.take(), undefined);
  b.seal();
  await turn();
  assert.deepEqual(asker.batches.flat().map((e) => e.k), [DONE]);
});

test("broker: a queue is not done while an item is held", async () => {
  const { b } = broker();
  const c = tracked(1);
  const asker = tracked(0);
  b.add(c);
  b.add(asker);
  b.put([item(1)]);
  b.seal();
  await turn();
  assert.deepEqual(c.got, [1]);
  b.credit(asker, 1);
  await turn();
  assert.equal(asker.batches.length, 0, "item 1 may still come back");
  assert.equal(b.take(), undefined);
  b.ack(c, 1);
  await turn();
  assert.deepEqual(asker.batches.flat().map((e) => e.k), [DONE]);
});

test("broker: done signals a dying consumer held are not put back in the queue", async () => {
  const { b } = broker();
  const c = tracked(2);
  b.add(c);
  b.seal();
  await turn();
  assert.deepEqual(c.batches.flat().map((e) => e.k), [DONE, DONE]);
  b.remove(c, {
    error: boom,
    progress: { committed: 0, finished: 0, returned: 1 },
  });
  assert.equal(b.size, 0);
  assert.equal(b.take()?.k, DONE, "made afresh for whoever asks");
});

test("broker: a bounded queue takes what fits and admits blocked puts in order as room opens", async () => {
  const { b } = broker(2);
  const order: string[] = [];
  assert.equal(
    b.put([item("a1"), item("a2"), item("a3")], () => order.push("a")),
    false,
  );
  assert.equal(b.size, 2);
  assert.equal(b.put([item("b1")], () => order.push("b")), false);
  assert.equal(b.put1(item("c1")), false, "no overtaking a blocked put");
  b.wait(item("c1"), () => order.push("c"));
  const c = tracked(0);
  b.add(c);
  const seen: unknown[] = [];
  for (let i = 0; i < 5; i++) {
    b.credit(c, 1);
    await turn();
    seen.push(...c.got.slice(seen.length));
    b.ack(c, 1);
  }
  assert.deepEqual(seen, ["a1", "a2", "a3", "b1", "c1"]);
  assert.deepEqual(order, ["a", "b", "c"]);
});

test("broker: a put never overtakes one that waits, even when there is room", async () => {
  const { b } = broker(2);
  const order: string[] = [];
  // A put that was refused waits for room, though room opened meanwhile.
  b.wait(item("w"), () => order.push("w"));
  assert.equal(b.put1(item("p")), false);
  assert.equal(b.put([item("q")], () => order.push("q")), false);
  await turn();
  assert.deepEqual(order, ["w", "q"]);
  assert.deepEqual(drain(b).map((e) => e.d), ["w", "q"]);
});

test("broker: a put's done is called only once all of it is in", () => {
  const { b } = broker(1);
  let done = 0;
  b.put([item(1), item(2), item(3)], () => done++);
  assert.equal(b.take()?.d, 1);
  assert.equal(done, 0, "item 3 is still out");
  assert.equal(b.take()?.d, 2);
  assert.equal(done, 1);
  assert.equal(b.take()?.d, 3);
  assert.equal(done, 1);
});

test("broker: maxsize 0 is unbounded", () => {
  const { b } = broker(0);
  assert.equal(b.maxsize, Infinity);
  assert.equal(b.put(Array.from({ length: 1000 }, (_, i) => item(i))), true);
  assert.equal(b.size, 1000);
});

test("broker: a large batch goes out at once; a small one on the next turn", async () => {
  const { b } = broker();
  const c = tracked(1000);
  b.add(c);
  b.put([item(0)]);
  assert.equal(c.batches.length, 0, "a small batch waits for the turn");
  await turn();
  assert.deepEqual(c.got, [0]);
  b.put(Array.from({ length: 64 }, (_, i) => item(i + 1)));
  assert.equal(c.got.length, 65, "64 waiting go out without a turn");
});

test("put credit: items plus credit never exceed maxsize; unused credit comes back", async () => {
  const broker = new Broker("q", 8, 3, () => {});
  const grants: number[] = [];
  const producer = { outstanding: 0, grant: (n: number) => grants.push(n) };
  broker.want(producer);
  await new Promise<void>((resolve) => soon(resolve));
  assert.equal(broker.creditCap, 4, "half the bound");
  assert.deepEqual(grants, [4]);
  // Three credits given back are room again; the one left is not the
  // owner's thread's to take.
  broker.spare(producer, 3);
  for (let i = 0; i < 7; i++) assert.equal(broker.put1(item(i)), true);
  assert.equal(broker.put1(item(7)), false);
  // A credited put goes in at once, even behind a blocked put.
  let blockedIn = false;
  assert.equal(broker.put([item(8)], () => blockedIn = true), false);
  assert.equal(broker.putCredited([item(9)], producer), true);
  assert.equal(broker.size, 8);
  assert.equal(producer.outstanding, 0);
  // No credit and no room: the producer asks in vain until a reader takes one.
  broker.want(producer);
  await new Promise<void>((resolve) => soon(resolve));
  assert.deepEqual(grants, [4]);
  assert.ok(broker.take());
  await new Promise<void>((resolve) => soon(resolve));
  assert.equal(blockedIn, true, "the older blocked put comes first");
  assert.deepEqual(grants, [4]);
  assert.ok(broker.take());
  await new Promise<void>((resolve) => soon(resolve));
  assert.deepEqual(grants, [4, 1]);
  assert.equal(broker.size + producer.outstanding, 8);
});

test("put credit: at most half the bound, and 1024, per producer", () => {
  for (
    const [maxsize, cap] of [[1, 1], [2, 1], [3, 1], [1000, 500], [5000, 1024]]
  ) {
    assert.equal(new Broker("q", maxsize, 3, () => {}).creditCap, cap);
  }
});

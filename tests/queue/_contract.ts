// The Queue contract, for any engine: every test here runs in one thread
// through the public API, over the queue `make` builds. The in-process
// engine runs it (tests/queue/queue_test.ts) and so does an engine written
// in tests/ alone (tests/queue/memory_engine_test.ts): the proof that Queue
// reaches its engine only through the Transport contract.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  END,
  endq,
  iterBatches,
  iterMsg,
  iterSortq,
  Msg,
  type Queue,
} from "../../mod.ts";

/** What builds a fresh queue of the engine under test. */
export type MakeQueue = <T = unknown>(
  options?: { name?: string; maxsize?: number },
) => Queue<T>;

/** Registers the contract's tests for `engine`. */
export function queueContract(engine: string, make: MakeQueue): void {
  test(`${engine}: put() wraps plain values in a Msg; get() returns them in order`, async () => {
    const q = make<number>({ name: "plain" });
    await q.put(1);
    await q.put(2, { kind: "K", order: 9 });
    await q.put(new Msg({ kind: "M", data: 3, order: 4 }));
    assert.equal(q.size, 3);
    assert.deepEqual(await q.get(), new Msg({ data: 1 }));
    assert.deepEqual(await q.get(), new Msg({ kind: "K", data: 2, order: 9 }));
    const third = await q.get();
    assert.ok(third instanceof Msg);
    assert.equal(third.kind, "M");
    assert.equal(third.data, 3);
    assert.equal(third.attempt, 1);
    assert.equal(q.size, 0);
  });

  test(`${engine}: the end kind is reserved: put() refuses it`, async () => {
    const q = make();
    await assert.rejects(
      q.put(new Msg({ kind: END })),
      (e: Error) => e instanceof TypeError && /reserved/.test(e.message),
    );
    await q.end();
    assert.equal((await q.get()).kind, END);
  });

  test(`${engine}: get() rejects with TimeoutError after its timeout, and with the reason on abort`, async () => {
    const q = make({ name: "idle" });
    await assert.rejects(
      q.get({ timeout: 20 }),
      (e: Error) => e.name === "TimeoutError" && /idle/.test(e.message),
    );
    const controller = new AbortController();
    const pending = q.get({ signal: controller.signal });
    controller.abort(new Error("stop"));
    await assert.rejects(pending, /stop/);
    // A cancelled get() does not swallow the next item.
    await q.put(5);
    assert.equal((await q.get()).data, 5);
  });

  test(`${engine}: a bounded queue makes put() wait for room (backpressure)`, async () => {
    const q = make<number>({ maxsize: 2 });
    await q.put(1);
    await q.put(2);
    let third = false;
    const pending = q.put(3).then(() => (third = true));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(third, false, "put() must wait while the queue is full");
    assert.equal(q.size, 2);
    assert.equal((await q.get()).data, 1);
    await pending;
    assert.equal(third, true);
    assert.deepEqual([(await q.get()).data, (await q.get()).data], [2, 3]);
  });

  test(`${engine}: uncloneable values: put() fails at once naming the queue and the type; nothing else is lost`, async () => {
    const q = make<unknown>({ name: "jobs" });
    await q.put("before");
    await assert.rejects(
      q.put({ nested: { fn: function handler() {} } }),
      (e: Error) =>
        e instanceof TypeError && /queue "jobs"/.test(e.message) &&
        /value\.nested\.fn \(function handler\)/.test(e.message),
    );
    await assert.rejects(q.put(Symbol("s")), /symbol/);
    await q.put("after");
    assert.deepEqual([(await q.get()).data, (await q.get()).data], [
      "before",
      "after",
    ]);
    assert.equal(q.size, 0);
  });

  test(`${engine}: iterMsg() stops at the end marker, which the loop never sees`, async () => {
    const q = make<number>();
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

  test(`${engine}: iterSortq() yields in order, holding back items that arrive early`, async () => {
    const q = make<string>();
    const orders = [3, 0, 4, 1, 2, 6, 5];
    for (const o of orders) await q.put(new Msg({ data: `m${o}`, order: o }));
    await q.end();
    const seen = [];
    for await (const msg of iterSortq(q)) seen.push(msg.order);
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
  });

  test(`${engine}: iterSortq() with a gap releases the held items in order at the end marker`, async () => {
    const q = make<string>();
    for (const o of [5, 1, 0, 4]) await q.put(new Msg({ data: "x", order: o }));
    await q.end();
    const seen = [];
    for await (const msg of iterSortq(q)) seen.push(msg.order);
    assert.deepEqual(seen, [0, 1, 4, 5]);
  });

  test(`${engine}: iterSortq() starts where it is told`, async () => {
    const q = make();
    for (const o of [11, 10]) await q.put(new Msg({ order: o }));
    await q.end();
    const seen = [];
    for await (const msg of iterSortq(q, 10)) seen.push(msg.order);
    assert.deepEqual(seen, [10, 11]);
    await assert.rejects(iterSortq(q, 1.5).next(), TypeError);
  });

  test(`${engine}: putMany in the owner's thread: in order, Msg kinds and orders kept, all or nothing`, async () => {
    const q = make<unknown>();
    await q.putMany([]);
    await q.putMany([1, new Msg({ kind: "K", data: 2, order: 5 }), "three"]);
    await q.putMany(new Set([4, 5]));
    assert.equal(q.size, 5);
    const first = await q.get();
    const second = await q.get();
    assert.equal(first.data, 1);
    assert.deepEqual([second.kind, second.data, second.order], ["K", 2, 5]);
    assert.deepEqual(
      [(await q.get()).data, (await q.get()).data, (await q.get()).data],
      ["three", 4, 5],
    );
    await assert.rejects(q.putMany([1, () => 2]), TypeError);
    await assert.rejects(
      q.putMany([new Msg({ kind: "workq:end", data: 1 })]),
      /reserved/,
    );
    await assert.rejects(q.putMany(7 as unknown as number[]), /iterable/);
    assert.equal(q.size, 0, "a rejected putMany put nothing");
  });

  test(`${engine}: a transfer detaches the sender's buffer; the reader gets its bytes`, async () => {
    const q = make<{ n: number; buffer: ArrayBuffer }>();
    const buffer = new Uint8Array([1, 2, 3]).buffer;
    await q.put({ n: 3, buffer }, { transfer: [buffer] });
    assert.equal(buffer.byteLength, 0);
    const got = (await q.get()).data;
    assert.deepEqual([got.n, [...new Uint8Array(got.buffer)]], [3, [1, 2, 3]]);
  });

  test(`${engine}: a waiting get() is answered by the next put, in the order the readers came`, async () => {
    const q = make<number>();
    const first = q.get();
    const second = q.get();
    await q.putMany([1, 2]);
    assert.deepEqual([(await first).data, (await second).data], [1, 2]);
  });

  test(`${engine}: getMany() takes up to max in order, what is there now, kinds and orders kept`, async () => {
    const q = make<number>();
    await q.putMany([1, 2, 3, 4, 5]);
    await q.put(6, { kind: "K", order: 2 });
    const first = await q.getMany({ max: 4 });
    assert.ok(first.every((m) => m instanceof Msg));
    assert.deepEqual(first.map((m) => m.data), [1, 2, 3, 4]);
    const rest = await q.getMany();
    assert.deepEqual(rest.map((m) => [m.data, m.kind, m.order]), [
      [5, "", 0],
      [6, "K", 2],
    ]);
    assert.equal(q.size, 0);
  });

  test(`${engine}: getMany() waits for the first item, not for max`, async () => {
    const q = make<number>();
    const pending = q.getMany({ max: 10 });
    await q.put(7);
    assert.deepEqual((await pending).map((m) => m.data), [7]);
    await assert.rejects(
      q.getMany({ timeout: 20 }),
      (e: Error) => e.name === "TimeoutError",
    );
    const controller = new AbortController();
    const aborted = q.getMany({ signal: controller.signal });
    controller.abort(new Error("stop"));
    await assert.rejects(aborted, /stop/);
    await q.put(8);
    assert.deepEqual(
      (await q.getMany()).map((m) => m.data),
      [8],
      "a cancelled getMany() does not swallow the next item",
    );
  });

  test(`${engine}: getMany() ends a batch at the end marker; what follows stays for the next read`, async () => {
    const q = make<number>();
    await q.putMany([1, 2]);
    await q.end();
    await q.put(3);
    const batches: Msg<number>[][] = [];
    for (let seen = 0; seen < 3;) {
      const batch = await q.getMany({ max: 10 });
      batches.push(batch);
      seen += batch.length;
    }
    const flat = batches.flat();
    assert.deepEqual(flat.map((m) => m.kind), ["", "", END]);
    assert.equal(
      batches.at(-1)!.at(-1)!.kind,
      END,
      "the marker ends its batch",
    );
    assert.deepEqual((await q.getMany()).map((m) => m.data), [3]);
  });

  test(`${engine}: getMany() refuses bad options by name`, async () => {
    const q = make<number>({ name: "batchy" });
    await q.put(1);
    for (const max of [0, 1.5, 65537, Infinity]) {
      await assert.rejects(
        q.getMany({ max }),
        (e: Error) =>
          e instanceof RangeError && /options\.max/.test(e.message) &&
          /batchy/.test(e.message),
      );
    }
    await assert.rejects(
      q.getMany({ max: "2" as unknown as number }),
      (e: Error) => e instanceof TypeError && /options\.max/.test(e.message),
    );
    await assert.rejects(
      q.getMany({ maxItems: 2 } as unknown as { max: number }),
      TypeError,
    );
    await assert.rejects(q.getMany(5 as unknown as { max: number }), TypeError);
    assert.deepEqual((await q.getMany()).map((m) => m.data), [1]);
  });

  test(`${engine}: iterBatches() yields every item once, in order, in batches of at most max, until the end marker`, async () => {
    const q = make<number>();
    const items = Array.from({ length: 150 }, (_, i) => i);
    await q.putMany(items);
    await q.end();
    await q.put(999);
    const seen: number[] = [];
    for await (const batch of iterBatches(q, { max: 64 })) {
      assert.ok(batch.length >= 1 && batch.length <= 64, `${batch.length}`);
      assert.ok(batch.every((m) => m.kind !== END), "no marker in a batch");
      for (const msg of batch) seen.push(msg.data);
    }
    assert.deepEqual(seen, items);
    assert.equal((await q.get()).data, 999, "items after the marker stay");
    const empty = make<number>();
    await empty.end();
    for await (const _ of iterBatches(empty)) assert.fail("no batch");
  });

  test(`${engine}: iterBatches() checks its arguments`, () => {
    assert.throws(
      () => iterBatches({} as Queue<number>),
      (e: Error) => e instanceof TypeError && /must be a Queue/.test(e.message),
    );
    const q = make<number>();
    assert.throws(() => iterBatches(q, { max: 0 }), RangeError);
    assert.throws(
      () => iterBatches(q, { size: 3 } as unknown as { max: number }),
      TypeError,
    );
  });
}

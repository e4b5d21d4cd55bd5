// A transfer list that names an object twice, a detached buffer or a
// non-object is refused by the put itself; the queue and the process go on.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Queue, run, transfer } from "../../mod.ts";

test("a put whose transfer list is wrong rejects with a TypeError; later items still reach a worker", async () => {
  const q = new Queue<ArrayBuffer>({ name: "moves" });
  const b = new ArrayBuffer(8);
  await assert.rejects(
    q.put(b, { transfer: [b, b] }),
    (e: Error) =>
      e instanceof TypeError &&
      /options\.transfer\[1\] is listed twice/.test(e.message),
  );
  assert.equal(b.byteLength, 8, "nothing was moved");
  const moved = new ArrayBuffer(4);
  structuredClone(moved, { transfer: [moved] });
  await assert.rejects(
    q.put(new ArrayBuffer(1), { transfer: [moved] }),
    /options\.transfer\[0\] .* is detached/,
  );
  await assert.rejects(
    q.put(new ArrayBuffer(1), { transfer: [42 as unknown as ArrayBuffer] }),
    /options\.transfer\[0\] must be a transferable object/,
  );
  await q.put(b, { transfer: [b] });
  assert.equal(b.byteLength, 0);
  const size = await run(
    async (q: Queue<ArrayBuffer>) => (await q.get()).data.byteLength,
    q,
  ).result;
  assert.equal(size, 8);
});

test("transfer() refuses a list that names a buffer twice", () => {
  const b = new ArrayBuffer(8);
  assert.throws(
    () => transfer({ b }, [b, b]),
    /list\[1\] is listed twice/,
  );
});

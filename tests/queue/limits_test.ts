// A put of a value that cannot cross threads is refused by the put itself,
// naming the limit, and the queue goes on.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Queue, run } from "../../mod.ts";

// Only Bun's engine makes strings this long (V8 stops at about 2^29).
const isBun = "Bun" in globalThis;

test(
  "a string too long to cross threads is refused by put, alone or inside an item (Bun)",
  {
    skip: isBun ? false : "V8 cannot make a string of 2^30 characters",
  },
  async () => {
    const q = new Queue<unknown>({ name: "big" });
    const huge = "x".repeat(2 ** 30);
    await assert.rejects(
      q.put(huge),
      (e: Error) =>
        e instanceof RangeError &&
        /queue "big": value \(a string of 1073741824 characters, over the 1073741822/
          .test(e.message),
    );
    await assert.rejects(
      q.put({ text: huge }),
      /value\.text \(a string of 1073741824 characters/,
    );
    await q.put("small");
    const got = await run(
      async (q: Queue<unknown>) => (await q.get({ timeout: 10_000 })).data,
      q,
    ).result;
    assert.equal(got, "small");
  },
);

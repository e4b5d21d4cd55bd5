// A queue whose owner thread has ended: put and get reject at once, from
// the moment the owner's end is known, never resolving for an item that is lost.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Queue, run, task } from "../../mod.ts";
import { here } from "../_helpers.ts";

type Exits = typeof import("../fixtures/exits.ts");
const ownAndEnd = task<Exits, "ownAndEnd">(
  here("./fixtures/exits.ts"),
  "ownAndEnd",
);

for (const how of ["return", "exit", "throw", "terminate"] as const) {
  test(`put and get reject right after the owner thread ended (${how})`, async () => {
    const out = new Queue<Queue<number>>();
    const handle = run(ownAndEnd, out, how === "terminate" ? "hang" : how);
    let q: Queue<number>;
    if (how === "return") q = (await handle.result)!;
    else {
      q = (await out.get({ timeout: 10_000 })).data;
      if (how === "terminate") await handle.terminate();
      await handle.result.catch(() => {});
    }
    await assert.rejects(q.put(1), /Queue "owned-by-worker" is gone/);
    await assert.rejects(
      q.get({ timeout: 5000 }),
      /Queue "owned-by-worker" is gone/,
    );
    await assert.rejects(q.put(2), /is gone/);
  });
}

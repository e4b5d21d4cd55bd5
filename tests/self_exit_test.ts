// A put that resolved is kept, even when the thread that made it then ends
// itself at once: return, process.exit(), Deno.exit() or close().
import assert from "node:assert/strict";
import { test } from "node:test";
import { endq, Queue, run, task } from "../mod.ts";
import { here } from "./_helpers.ts";
import type { ExitPath } from "./fixtures/exits.ts";

type Exits = typeof import("./fixtures/exits.ts");
const exits = here("./fixtures/exits.ts");
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
// Every way a worker can end itself on this runtime (Bun's workers have no close()).
const paths: ExitPath[] = [
  "return",
  ...(typeof g.process?.exit === "function" ? ["process.exit" as const] : []),
  ...("Deno" in g ? ["Deno.exit" as const, "close" as const] : []),
];

async function drain(q: Queue<number>): Promise<number[]> {
  await q.end();
  const seen: number[] = [];
  for await (const msg of q) seen.push(msg.data);
  return seen;
}

for (const how of paths) {
  for (const n of [1, 767, 768, 769, 100_000]) {
    test(`${n} resolved puts, then ${how}: every item arrives, in order`, async () => {
      const out = new Queue<number>({ name: `exit-${how}-${n}` });
      const handle = run(
        task<Exits, "putThenExit">(exits, "putThenExit"),
        out,
        n,
        how,
      );
      const outcome = await handle.result.then(
        () => "returned",
        (e: Error) => e.message,
      );
      if (how === "return") assert.equal(outcome, "returned");
      else assert.match(outcome, /exited with code 0 before its task finished/);
      const seen = await drain(out);
      assert.equal(seen.length, n, `${n} put, ${seen.length} arrived`);
      for (let i = 0; i < n; i++) {
        if (seen[i] !== i) assert.fail(`item ${i} is ${seen[i]}`);
      }
    });
  }
  test(`ezq's sum with workers that put their sum, then ${how}: the total is exact`, async () => {
    const inQ = new Queue<number>({ name: `sum-in-${how}` });
    const outQ = new Queue<number>({ name: `sum-out-${how}` });
    const sumThenExit = task<Exits, "sumThenExit">(exits, "sumThenExit");
    const workers = [0, 1].map(() => run(sumThenExit, inQ, outQ, how));
    for (let i = 0; i < 10_000; i++) await inQ.put(i);
    for (const _ of workers) await endq(inQ);
    await Promise.allSettled(workers.map((w) => w.result));
    const sums = await drain(outQ);
    assert.equal(sums.length, 2, `sums: ${sums}`);
    assert.equal(sums[0] + sums[1], 49_995_000);
  });
}

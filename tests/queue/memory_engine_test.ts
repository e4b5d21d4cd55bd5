// The queue contract over an engine written in tests/ alone (see
// tests/_memory_engine.ts), with no edit under src/queue/: Queue reaches
// its engine only through the Transport contract.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Queue } from "../../mod.ts";
import { memoryQueue } from "../_memory_engine.ts";
import { queueContract } from "./_contract.ts";

queueContract(
  "memory engine",
  <T>(options?: { name?: string; maxsize?: number }) =>
    memoryQueue<T>(options).queue,
);

test("memory engine: a live queue put into it is refused by name", async () => {
  const { queue } = memoryQueue<unknown>({ name: "mem" });
  await assert.rejects(
    queue.put({ q: new Queue() }),
    (e: Error) =>
      e instanceof TypeError && /memory queue "mem"/.test(e.message),
  );
});

test("memory engine: its reads go through the commit ledger (committed once the reader asks for the next)", async () => {
  const { queue, transport } = memoryQueue<number>();
  await queue.putMany([1, 2, 3]);
  await queue.get();
  assert.equal(
    transport.committed,
    0,
    "the item being worked on is not committed",
  );
  await queue.get();
  assert.equal(transport.committed, 1);
});

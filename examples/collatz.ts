/**
 * ezq's "read and write queues" example: readers compute one collatz step
 * per number; one printer prints the results sorted by `order`.
 *
 *   deno run --allow-read examples/collatz.ts
 *   bun examples/collatz.ts
 *   node examples/collatz.ts
 */
import {
  endqAndWait,
  iterMsg,
  iterSortq,
  Msg,
  NUM_CPUS,
  Queue,
  run,
} from "../mod.ts";

/** Prints results in increasing order. */
async function printer(writeQ: Queue<[number, number]>): Promise<void> {
  for await (const msg of iterSortq(writeQ)) console.log(msg.data);
}

/** Reads numbers and computes values. */
async function collatz(
  readQ: Queue<number>,
  writeQ: Queue<[number, number]>,
): Promise<void> {
  for await (const msg of iterMsg(readQ)) {
    const num = msg.data;
    if (msg.kind === "EVEN") {
      await writeQ.put(new Msg({ data: [num, num / 2], order: msg.order }));
    } else if (msg.kind === "ODD") {
      await writeQ.put(new Msg({ data: [num, 3 * num + 1], order: msg.order }));
    }
  }
}

const readQ = new Queue<number>();
const writeQ = new Queue<[number, number]>();
const readers = Array.from(
  { length: Math.max(1, NUM_CPUS - 1) },
  () => run(collatz, readQ, writeQ),
);
const writers = run(printer, writeQ);

for (let i = 0; i < 40; i++) {
  const kind = i % 2 === 0 ? "EVEN" : "ODD";
  await readQ.put(new Msg({ kind, data: i, order: i }));
}

await endqAndWait(readQ, readers);
await endqAndWait(writeQ, writers);

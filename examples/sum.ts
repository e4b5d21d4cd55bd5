/**
 * ezq's "sum messages" example: workers read numbers from one queue until
 * its end marker and put their sums on another.
 *
 *   deno run --allow-read examples/sum.ts
 *   bun examples/sum.ts
 *   node examples/sum.ts
 */
import {
  endq,
  endqAndWait,
  iterMsg,
  Msg,
  NUM_CPUS,
  Queue,
  run,
} from "../mod.ts";

/** Adds up all the messages. */
async function worker(inQ: Queue<number>, outQ: Queue<number>): Promise<void> {
  let count = 0;
  for await (const msg of iterMsg(inQ)) {
    // you could check `msg.kind` if there are different kinds of work
    count += msg.data;
  }
  // when `inQ` is done, put the result on `outQ`
  await outQ.put(new Msg({ data: count }));
}

const N = Number(globalThis.process?.argv?.[2] ?? 1000);
const inQ = new Queue<number>(); // to send work
const outQ = new Queue<number>(); // to get results

const workers = Array.from({ length: NUM_CPUS }, () => run(worker, inQ, outQ));
for (let i = 0; i < N; i++) await inQ.put(new Msg({ data: i })); // send work

await endqAndWait(inQ, workers); // end work queue and wait for workers to finish
await endq(outQ); // end result queue so we can iterate over it

let result = 0;
for await (const msg of iterMsg(outQ)) result += msg.data;
if (result !== (N * (N - 1)) / 2) throw new Error(`wrong sum ${result}`);
console.log(result);

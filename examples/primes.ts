/**
 * Real CPU work: count the primes below 6,000,000 by trial division, split
 * into chunks that workers take from a queue, against the same work on one
 * thread. Results come back on a second queue, sorted by chunk.
 *
 *   deno run --allow-read examples/primes.ts
 *   bun examples/primes.ts
 *   node examples/primes.ts
 */
import {
  endqAndWait,
  iterSortq,
  Msg,
  NUM_CPUS,
  Queue,
  run,
  task,
} from "../mod.ts";
import { countPrimes } from "./primes_task.ts";

const LIMIT = 6_000_000;
const CHUNK = 100_000;
type Tasks = typeof import("./primes_task.ts");
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const countChunks = task<Tasks, "countChunks">(
  new URL(`./primes_task${ext}`, import.meta.url),
  "countChunks",
);

let t0 = performance.now();
const single = countPrimes(0, LIMIT);
const oneThread = performance.now() - t0;

t0 = performance.now();
const chunks = new Queue<[number, number]>({ name: "chunks" });
const counts = new Queue<number>({ name: "counts" });
const workers = Array.from(
  { length: NUM_CPUS },
  () => run(countChunks, chunks, counts),
);
let n = 0;
for (let from = 0; from < LIMIT; from += CHUNK) {
  await chunks.put(
    new Msg({ data: [from, Math.min(from + CHUNK, LIMIT)], order: n++ }),
  );
}
const perWorker = await endqAndWait(chunks, workers);
await counts.end();
let total = 0;
let seen = 0;
for await (const msg of iterSortq(counts)) {
  if (msg.order !== seen++) throw new Error("chunks out of order");
  total += msg.data;
}
const parallel = performance.now() - t0;

if (total !== single) {
  throw new Error(`workers counted ${total}, one thread ${single}`);
}
console.log(`primes below ${LIMIT}: ${total}`);
console.log(
  `one thread: ${oneThread.toFixed(0)} ms; ${NUM_CPUS} workers: ${
    parallel.toFixed(0)
  } ms ` +
    `(${(oneThread / parallel).toFixed(2)}x); chunks per worker: ${
      perWorker.join(", ")
    }`,
);

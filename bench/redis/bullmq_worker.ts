/**
 * A BullMQ worker process of bench/redis_bench.ts: ezq's sum as BullMQ jobs
 * (each job's `data.n` added to a total), with the given concurrency.
 * Prints "ready" once connected; when its stdin ends, closes the worker and
 * prints "TOTAL COUNT".
 *
 *   <runtime> bench/redis/bullmq_worker.ts URL QUEUE CONCURRENCY
 */
import process from "node:process";
import { connection, loadBullMQ } from "./bullmq.ts";

const [url, name, concurrency] = process.argv.slice(2);
const { Worker } = loadBullMQ();
let total = 0;
let count = 0;
const worker = new Worker(
  name,
  (job) => {
    total += job.data.n;
    count++;
    return Promise.resolve();
  },
  { connection: connection(url), concurrency: Number(concurrency) },
);
await worker.waitUntilReady();
process.stdout.write("ready\n");
process.stdin.on("end", async () => {
  await worker.close();
  process.stdout.write(`${total} ${count}\n`);
  process.exit(0);
});
process.stdin.resume();

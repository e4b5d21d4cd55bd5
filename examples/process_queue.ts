/**
 * smq's ProcessQueue: give it a handler, feed it items with start(); one
 * worker handles them and ends by itself when the queue is drained.
 *
 *   deno run --allow-read examples/process_queue.ts
 *   bun examples/process_queue.ts
 *   node examples/process_queue.ts
 */
import { ProcessQueue } from "../mod.ts";

function processItem(name: string): void {
  let hash = 0;
  for (let i = 0; i < 2_000_000; i++) {
    hash = (hash * 31 + name.charCodeAt(i % name.length)) | 0;
  }
  console.log(`${name}: ${hash >>> 0}`);
}

const pq = new ProcessQueue(processItem);
let [newInstance, queueLength] = pq.start(["dave", "mike", "eric"]);
console.log("new instance:", newInstance, "queue length:", queueLength);
[newInstance, queueLength] = pq.start(["kevin", "bernard", "simon"]);
console.log("new instance:", newInstance, "queue length:", queueLength);
await pq.onIdle();
console.log("done:", pq.done);

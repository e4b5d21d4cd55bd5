/**
 * iterable-queue's example: 3 producers and 5 consumers; producers close
 * when they are done, consumers just iterate — no end markers.
 *
 *   deno run --allow-read examples/iterable_queue.ts
 *   bun examples/iterable_queue.ts
 *   node examples/iterable_queue.ts
 */
import { type Consumer, IterableQueue, type Producer, run } from "../mod.ts";

async function producerFunc(
  queue: Producer<number>,
  producerId: number,
): Promise<void> {
  for (let i = 0; i < 10; i++) await queue.put(producerId);
  await queue.close();
}

async function consumerFunc(
  queue: Consumer<number>,
  consumerId: number,
): Promise<number> {
  let seen = 0;
  for await (const item of queue) {
    console.log(`consumer ${consumerId} saw item ${item}`);
    seen++;
  }
  return seen;
}

const iq = new IterableQueue<number>();
const producers = [0, 1, 2].map((id) => run(producerFunc, iq.producer(), id));
const consumers = [0, 1, 2, 3, 4].map((id) =>
  run(consumerFunc, iq.consumer(), id)
);
iq.close(); // no new producer endpoints will be made

await Promise.all(producers);
const seen = (await Promise.all(consumers)).reduce((a, b) => a + b, 0);
console.log(`${seen} items consumed`);

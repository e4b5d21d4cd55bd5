/**
 * workq over Redis Streams: the same {@linkcode Queue} API, with the items
 * in a Redis server, so that workers in other processes and on other hosts
 * drain it. Open a queue with {@linkcode redisQueue}; start workers anywhere
 * with the worker command (`jsr:@workq/workq/redis/worker`, see the README);
 * end it with {@linkcode endqAndWaitRemote}; close handles with
 * {@linkcode closeQueue}.
 *
 * A resolved `put` is in Redis: it resolves once the server acknowledged
 * the item (puts made together share one pipeline; `putMany` sends a batch
 * in one). A put fails by itself, naming why: an item above `maxItemBytes`
 * (at most the server's `proto-max-bulk-len`), or a lost queue — its stream gone because the
 * server restarted without its data — which `endqAndWaitRemote` reports
 * too, instead of waiting for ever.
 *
 * Delivery is at least once: an item is acknowledged only after the
 * consumer that read it asked for the next one and its own puts are in
 * Redis; the items of a consumer that died are taken over by another after
 * `claimIdle` ms; an item delivered more than `maxAttempts` times goes to
 * `<name>:dead` ({@linkcode deadLetters}). Items are stored in a tagged
 * binary encoding of the structured-clone types ({@linkcode encodeValue}),
 * so workers on Deno, Bun and Node share a queue.
 *
 * No error workq makes holds the password (in the URL, an ACL user's, or
 * `options.password`): URLs show `***`, and the client's errors are rebuilt
 * without their command arguments. `rediss://` takes the server's CA as
 * `options.tls.ca` (see {@linkcode RedisQueueOptions}).
 *
 * For producers and consumers that know when the queue is done
 * (iterable-queue's endpoints, across processes and hosts), open it with
 * {@linkcode redisIterableQueue}: consumers' loops end by themselves once
 * it was closed to new producers, every producer closed (or, killed, let
 * its lease run out) and every item is finished.
 *
 * @example ezq's sum, with the workers in other processes
 * <!-- test: workers 2 --queue sum-in --results sum-out --module tasks.ts --export sum --claim-idle 10000 -->
 * ```ts ignore
 * import { iterMsg } from "@workq/workq";
 * import { closeQueue, endqAndWaitRemote, redisQueue } from "@workq/workq/redis";
 *
 * const url = "redis://127.0.0.1:6379";
 * const inQ = await redisQueue<number>(url, "sum-in");
 * const outQ = await redisQueue<number>(url, "sum-out");
 * // elsewhere, twice (the URL in the environment: a command line is seen by all):
 * //   WORKQ_REDIS_URL=redis://... deno run -A jsr:@workq/workq/redis/worker \
 * //   --queue sum-in --results sum-out --module ./tasks.ts --export sum
 * // One round trip for the lot (each awaited put() would cost one).
 * await inQ.putMany(Array.from({ length: 1000 }, (_, i) => i));
 * await endqAndWaitRemote(inQ, 2);
 * await outQ.end();
 * let total = 0;
 * for await (const msg of iterMsg(outQ)) total += msg.data;
 * console.log(total); // 499500
 * await closeQueue(inQ);
 * await closeQueue(outQ);
 * ```
 * @example Done-aware endpoints: no end markers, consumers end by themselves
 * <!-- test: split 2 1 -->
 * ```ts ignore
 * import { redisIterableQueue } from "@workq/workq/redis";
 *
 * const url = "redis://127.0.0.1:6379";
 *
 * // Each producer process (2 in all):
 * const iq = await redisIterableQueue<string>(url, "urls", { producers: 2 });
 * const producer = await iq.producer();
 * await producer.put("https://example.com/");
 * await producer.close();
 * await iq.disconnect();
 *
 * // Each consumer process:
 * const cq = await redisIterableQueue<string>(url, "urls");
 * for await (const page of await cq.consumer()) console.log(page);
 * await cq.disconnect();
 * ```
 * @module
 */
export {
  closeQueue,
  deadLetters,
  endqAndWaitRemote,
  redisQueue,
  type RedisQueueOptions,
  type RemoteWaitOptions,
} from "./src/redis/queue.ts";
export {
  RedisConsumer,
  RedisIterableQueue,
  redisIterableQueue,
  type RedisIterableQueueOptions,
} from "./src/redis/iterable.ts";
export { decodeValue, encodeValue } from "./src/redis/encoding.ts";
export type { RedisTlsOptions } from "./src/redis/connection.ts";
export { QueueDoneError } from "./src/shapes/iterable_queue.ts";
// The types the functions above use, so that this entry documents itself.
export type {
  DeadLetter,
  GetOptions,
  PutOptions,
  Queue,
  QueueOptions,
} from "./src/queue/queue.ts";
export type { Msg, MsgInit } from "./src/msg.ts";
export type { Consumer, Producer } from "./src/shapes/iterable_queue.ts";

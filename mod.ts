/**
 * workq: one small API for moving CPU work off the main thread, on Deno, Bun
 * and Node. Fill a {@linkcode Queue}, start workers with {@linkcode run},
 * end the queue with {@linkcode endq} or {@linkcode endqAndWait}; workers
 * read with {@linkcode iterMsg} or {@linkcode iterSortq}. Data crosses
 * threads by structured clone, and `ArrayBuffer`s can be moved without a
 * copy.
 *
 * Runs on Deno 2, Bun 1 and Node 22/24 (Web Workers on Bun,
 * `node:worker_threads` on Node and Deno, also when Deno loads workq from
 * JSR); the core imports no `node:` module. Also here: {@linkcode map} / {@linkcode imap}
 * (mpmq, `Pool.map`), {@linkcode ProcessQueue} (smq), {@linkcode IterableQueue}
 * (iterable-queue), {@linkcode Feeder} (QuasiQueue). The Redis transport is
 * the separate export `@workq/workq/redis`.
 *
 * @example ezq's sum
 * ```ts
 * import { endqAndWait, iterMsg, NUM_CPUS, Queue, run } from "@workq/workq";
 *
 * const inQ = new Queue<number>();
 * const outQ = new Queue<number>();
 * const workers = Array.from({ length: NUM_CPUS }, () =>
 *   run(async (inQ: Queue<number>, outQ: Queue<number>) => {
 *     let sum = 0;
 *     for await (const msg of iterMsg(inQ)) sum += msg.data;
 *     await outQ.put(sum);
 *   }, inQ, outQ));
 * for (let i = 0; i < 1000; i++) await inQ.put(i);
 * await endqAndWait(inQ, workers);
 * await outQ.end();
 * let total = 0;
 * for await (const msg of outQ) total += msg.data;
 * console.log(total); // 499500
 * ```
 * @module
 */
export * from "./src/exports.ts";

/**
 * Ending queues: ezq's `endq` and `endq_and_wait`.
 * @module
 */
import { checkQueue, type Queue } from "../queue/queue.ts";
import { WorkerHandle } from "../worker/run.ts";
import { show } from "../validate.ts";

/**
 * Puts the end marker in a queue, so that one reader's iteration stops
 * after the items before it. Same as `q.end()`.
 *
 * @param q The queue to end.
 * @returns A promise that resolves once the marker is in the queue.
 * @example
 * ```ts
 * import { endq, iterMsg, Queue } from "@workq/workq";
 * const q = new Queue<number>();
 * await q.put(7);
 * await endq(q);
 * for await (const msg of iterMsg(q)) console.log(msg.data); // 7
 * ```
 */
export function endq(q: Queue<unknown>): Promise<void> {
  try {
    checkQueue("end a queue with endq()", "q", q);
  } catch (error) {
    return Promise.reject(error);
  }
  return q.end();
}

/**
 * Puts one end marker per worker, then waits for every worker to finish.
 * It never hangs on a dead worker: each handle settles when its worker ends,
 * however it ends. When a worker failed, it rejects with the first failure,
 * after all have settled.
 *
 * @param q The queue the workers read.
 * @param workers One handle or several, as returned by `run`.
 * @returns The workers' results, in the order of `workers`.
 * @throws The first worker's error when any failed (its task threw, or it died).
 * @example
 * ```ts
 * import { endqAndWait, iterMsg, Queue, run } from "@workq/workq";
 * const q = new Queue<number>();
 * const worker = run(async (q: Queue<number>) => {
 *   let n = 0;
 *   for await (const _ of iterMsg(q)) n++;
 *   return n;
 * }, q);
 * await q.put(1);
 * await q.put(2);
 * console.log(await endqAndWait(q, worker)); // [2]
 * ```
 */
export async function endqAndWait<R>(
  q: Queue<unknown>,
  workers: WorkerHandle<R> | readonly WorkerHandle<R>[],
): Promise<R[]> {
  checkQueue("end a queue with endqAndWait()", "q", q);
  const list = Array.isArray(workers) ? workers : [workers as WorkerHandle<R>];
  list.forEach((worker, i) => {
    if (!(worker instanceof WorkerHandle)) {
      const name = Array.isArray(workers) ? `workers[${i}]` : "workers";
      throw new TypeError(
        `Cannot wait for workers: ${name} must be a handle from run(), received ${
          show(worker)
        }`,
      );
    }
  });
  for (let i = 0; i < list.length; i++) await q.end();
  const settled = await Promise.allSettled(list.map((worker) => worker.result));
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}

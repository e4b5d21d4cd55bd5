/**
 * Reading a queue until its end marker: in arrival order or sorted.
 * @module
 */
import { END, type Msg } from "../msg.ts";
import { checkQueue, type Queue } from "./queue.ts";
import * as v from "../validate.ts";

/** Options of {@linkcode iterBatches}. */
export interface IterBatchesOptions {
  /** The most messages in one batch, from 1 to 65536. @default 64 */
  max?: number;
}

/**
 * Iterates over a queue's messages until the end marker, which the loop
 * never sees — ezq's `iter_msg`. Same as `for await (const msg of q)`.
 *
 * @param q The queue to read.
 * @returns An async iterator of messages.
 * @example
 * ```ts
 * import { iterMsg, Queue } from "@workq/workq";
 * const q = new Queue<number>();
 * await q.put(1);
 * await q.end();
 * for await (const msg of iterMsg(q)) console.log(msg.data); // 1
 * ```
 */
export function iterMsg<T>(
  q: Queue<T>,
): AsyncIterableIterator<Msg<T>> {
  checkQueue("iterate with iterMsg()", "q", q);
  return q[Symbol.asyncIterator]();
}

/**
 * Iterates over a queue's messages in batches until the end marker, which
 * no batch holds: each batch is what one {@linkcode Queue.prototype.getMany}
 * returns, 1 to `max` messages in order, never empty. As with
 * {@linkcode iterMsg}, the messages of a batch count as finished once the
 * loop asks for the next batch — one step of the loop per batch, so that a
 * loop that puts its results with `putMany` moves items by the batch both
 * ways.
 *
 * @param q The queue to read.
 * @param options The most messages per batch.
 * @returns An async iterator of arrays of messages.
 * @throws {TypeError} When `q` is not a Queue or `options` is not an object.
 * @throws {RangeError} When `max` is not an integer from 1 to 65536.
 * @example Results go back a batch at a time
 * ```ts
 * import { iterBatches, Queue } from "@workq/workq";
 * const inQ = new Queue<number>();
 * const outQ = new Queue<number>();
 * await inQ.putMany([1, 2, 3, 4, 5]);
 * await inQ.end();
 * for await (const batch of iterBatches(inQ, { max: 2 })) {
 *   await outQ.putMany(batch.map((msg) => msg.data * 10));
 * }
 * console.log(outQ.size); // 5
 * ```
 */
export function iterBatches<T>(
  q: Queue<T>,
  options?: IterBatchesOptions,
): AsyncIterableIterator<Msg<T>[]> {
  const what = "iterate with iterBatches()";
  checkQueue(what, "q", q);
  v.options(what, "options", options, ["max"]);
  const max = v.number(what, "options.max", options?.max, 64, {
    min: 1,
    max: 65536,
    integer: true,
  });
  // A plain iterator, not an async generator: one promise per batch.
  let ended = false;
  const finish = (): IteratorResult<Msg<T>[]> => {
    ended = true;
    return { done: true, value: undefined };
  };
  const step = (batch: Msg<T>[]): IteratorResult<Msg<T>[]> => {
    // The end marker can only be a batch's last message.
    if (batch[batch.length - 1].kind !== END) {
      return { done: false, value: batch };
    }
    if (batch.length === 1) return finish();
    // The data before it first; the loop's next step ends.
    ended = true;
    batch.pop();
    return { done: false, value: batch };
  };
  return {
    next(): Promise<IteratorResult<Msg<T>[]>> {
      if (ended) return Promise.resolve(finish());
      return q.getMany({ max }).then(step);
    },
    return(): Promise<IteratorResult<Msg<T>[]>> {
      return Promise.resolve(finish());
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Iterates over a queue's messages in `order`, starting at `start`: a
 * message that arrives early is held back until those before it have been
 * yielded — ezq's `iter_sortq`. When the end marker comes while a gap
 * remains, the held messages are yielded in order; nothing hangs.
 *
 * @param q The queue to read.
 * @param start The first `order` expected. @default 0
 * @returns An async iterator of messages in order.
 * @throws {TypeError} When `start` is not an integer.
 * @example
 * ```ts
 * import { iterSortq, Msg, Queue } from "@workq/workq";
 * const q = new Queue<string>();
 * await q.put(new Msg({ data: "b", order: 1 }));
 * await q.put(new Msg({ data: "a", order: 0 }));
 * await q.end();
 * const seen = [];
 * for await (const msg of iterSortq(q)) seen.push(msg.data);
 * console.log(seen); // ["a", "b"]
 * ```
 */
export async function* iterSortq<T>(
  q: Queue<T>,
  start = 0,
): AsyncIterableIterator<Msg<T>> {
  checkQueue("iterate with iterSortq()", "q", q);
  if (!Number.isInteger(start)) {
    throw new TypeError(
      `Cannot sort a queue from start ${String(start)}: expected an integer`,
    );
  }
  const early = new Map<number, Msg<T>[]>();
  let next = start;
  for await (const msg of q) {
    if (msg.order !== next) {
      const list = early.get(msg.order);
      if (list) list.push(msg);
      else early.set(msg.order, [msg]);
      continue;
    }
    yield msg;
    next++;
    for (let list = early.get(next); list; list = early.get(next)) {
      early.delete(next);
      yield* list;
      next++;
    }
  }
  for (const order of [...early.keys()].sort((a, b) => a - b)) {
    yield* early.get(order)!;
  }
}

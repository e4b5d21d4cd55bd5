/**
 * Reading a queue until its end marker: in arrival order or sorted.
 * @module
 */
import type { Msg } from "../msg.ts";
import { checkQueue, type Queue } from "./queue.ts";

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

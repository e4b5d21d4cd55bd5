/**
 * Messages: what a queue carries.
 * @module
 */
import { brand } from "./copies.ts";
import * as v from "./validate.ts";

/**
 * The kind of the end-of-queue marker. It is reserved: `put` refuses a
 * message of this kind, so a user's message can never end a queue by
 * accident; only {@linkcode endq} (or `Queue.end()`) puts one.
 *
 * @example Recognise the marker when reading with `get()`
 * ```ts
 * import { END, Queue } from "@workq/workq";
 * const q = new Queue();
 * q.end();
 * const msg = await q.get();
 * console.log(msg.kind === END); // true
 * ```
 */
export const END = "workq:end";

/** @internal A producer endpoint's "no more items" (see `IterableQueue`). */
export const CLOSE = "workq:close";
/** @internal The answer to a reader of a queue that is done (see `IterableQueue`). */
export const DONE = "workq:done";

/** The fields of a {@linkcode Msg}, all optional. */
export interface MsgInit<T> {
  /** What the message is about; `""` by default. */
  kind?: string;
  /** The payload; it crosses threads by structured clone. */
  data?: T;
  /** A position for sorted reading ({@linkcode iterSortq}); `0` by default. */
  order?: number;
}

/**
 * A message in a queue: a `kind`, the `data`, and an `order` for sorted
 * reading — ezq's `Msg`. Plain values put into a queue are wrapped in one.
 *
 * @typeParam T The type of `data`.
 * @example Put typed work and read it back
 * ```ts
 * import { Msg, Queue } from "@workq/workq";
 * const q = new Queue<number>();
 * await q.put(new Msg({ kind: "EVEN", data: 4, order: 2 }));
 * const msg = await q.get();
 * console.log(msg.kind, msg.data, msg.order); // EVEN 4 2
 * ```
 */
export class Msg<T = unknown> {
  /** What the message is about; {@linkcode END} marks the end of a queue. */
  readonly kind: string;
  /** The payload. */
  readonly data: T;
  /** A position for sorted reading. */
  readonly order: number;
  /**
   * How many times this message has been handed out: `1` normally, more
   * when a worker died holding it and it was delivered again.
   */
  readonly attempt: number;

  /**
   * Creates a message.
   * @param init The fields; each is optional.
   * @param attempt Set by workq on redelivery; leave it out.
   * @throws {TypeError} When `init` is not an object, `kind` not a string or `order` not a number.
   */
  constructor(init?: MsgInit<T>, attempt = 1) {
    if (trusted) {
      // From msgOf: fields an engine already checked, one read per item.
      trusted = false;
      this.kind = init!.kind!;
      this.data = init!.data as T;
      this.order = init!.order!;
      this.attempt = attempt;
      return;
    }
    const what = "create a Msg";
    const given = v.options(what, "init", init, ["kind", "data", "order"]);
    this.kind = v.string(what, "init.kind", given.kind, "");
    this.data = given.data as T;
    this.order = v.number(what, "init.order", given.order, 0);
    this.attempt = attempt;
  }
}
brand(Msg);

let trusted = false;

/**
 * A message from fields that were checked when it was put (what an engine
 * hands back): no second check on the read path.
 */
export function msgOf<T>(
  kind: string,
  data: T,
  order: number,
  attempt: number,
): Msg<T> {
  trusted = true;
  return new Msg<T>({ kind, data, order }, attempt);
}

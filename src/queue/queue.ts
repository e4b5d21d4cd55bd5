/**
 * The public queue.
 * @module
 */
import { brand, foreignCopy } from "../copies.ts";
import { END, Msg, msgOf } from "../msg.ts";
import {
  cloneError,
  decode,
  findUncloneable,
  type Lifeline,
  MAX_STRING_LENGTH,
  onRevive,
  tooLong,
  WIRE,
  type WireDescriptor,
} from "../wire.ts";
import { OwnerTransport, type QueueDescriptor } from "./threads/owner.ts";
import * as v from "../validate.ts";
import { checkTransferList } from "../transfer.ts";
import type { Entry } from "./entry.ts";
import { ClientTransport } from "./threads/client.ts";
import { itemBytes } from "./size.ts";
import type { Transport } from "./transport.ts";

/** Options of {@linkcode Queue}. */
export interface QueueOptions {
  /** A readable name, used in errors. @default "queue-N" */
  name?: string;
  /**
   * The most items the queue holds; `put` waits for room beyond it. `0`
   * means unbounded. @default 0
   */
  maxsize?: number;
  /**
   * How many workers an item may see die while it is in their hands before
   * it is set aside as a dead letter instead of being delivered again.
   * @default 3
   */
  maxAttempts?: number;
  /**
   * Called (in the thread that created the queue) with an item set aside
   * after `maxAttempts`, and the error of the last worker that died with it.
   * The item is also kept in {@linkcode Queue.prototype.deadLetters}.
   */
  onDeadLetter?: (msg: Msg<unknown>, error: Error) => void;
  /**
   * The largest item a put accepts, in bytes as workq estimates them (2 per
   * string character, a buffer's `byteLength`, 8 per number; see
   * docs/security.md): a bigger one rejects with a `RangeError` naming its
   * size and the limit, and the queue goes on. It holds in every thread the
   * queue is handed to. Unset (the default), there is no limit beyond what
   * can cross threads at all, and puts pay nothing for it.
   * @default Infinity
   * @example
   * ```ts
   * import { Queue } from "@workq/workq";
   * const q = new Queue<string>({ maxItemBytes: 1024 });
   * await q.put("x".repeat(600)).catch((e) => console.log(e.name)); // RangeError
   * await q.put("small");
   * console.log(q.size); // 1
   * ```
   */
  maxItemBytes?: number;
}

/** An item set aside after killing `maxAttempts` workers, and why. */
export interface DeadLetter<T> {
  /** The item, with its `attempt` count. */
  msg: Msg<T>;
  /** The error of the last worker that died holding it. */
  error: Error;
}

/** Options of {@linkcode Queue.prototype.put}. */
export interface PutOptions {
  /**
   * Objects inside the item (usually `ArrayBuffer`s) to move instead of
   * copy; the sender's copies are detached.
   */
  transfer?: Transferable[];
  /** The kind of the message, when a plain value is put. @default "" */
  kind?: string;
  /** The order of the message, when a plain value is put. @default 0 */
  order?: number;
}

/** Options of {@linkcode Queue.prototype.get}. */
export interface GetOptions {
  /** Stops waiting when aborted; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Stops waiting after this many milliseconds with a `TimeoutError`. */
  timeout?: number;
}

/** Options of {@linkcode Queue.prototype.getMany}. */
export interface GetManyOptions extends GetOptions {
  /** The most messages one call returns, from 1 to 65536. @default 64 */
  max?: number;
}

/** The largest batch {@linkcode Queue.prototype.getMany} takes. */
const MAX_BATCH = 65536;

let counter = 0;
const RESERVED = "workq:";

/** @internal How workq's own shapes reach a queue's transport. */
export let transportOf: (q: Queue<unknown>) => Transport;

// How a queue is built over a transport other than the owner's: a key no
// user option can collide with.
const TRANSPORT: unique symbol = Symbol("workq.transport");

// The item limit a queue handed to another thread keeps there.
const LIMIT = "workq:maxItemBytes";

/**
 * Builds a queue over `transport` (a client in another thread, or another
 * engine), with the item limit of the queue it stands for.
 */
export function queueOver<T>(
  transport: Transport,
  maxItemBytes?: number,
): Queue<T> {
  return new Queue<T>(
    { [TRANSPORT]: transport, maxItemBytes } as QueueOptions,
  );
}

/**
 * A FIFO queue that many producers and many consumers share across threads:
 * hand it to workers as an argument of `run` or inside a message, and every
 * side can `put` and `get`. Each item reaches exactly one consumer; items
 * from one producer keep their order.
 *
 * Items cross threads by structured clone. Plain values are wrapped in a
 * {@linkcode Msg}; `get` always returns a `Msg`.
 *
 * @typeParam T The type of the items' data.
 * @example ezq's sum: workers add up what they read until the end marker
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
 */
export class Queue<T = unknown> implements AsyncIterable<Msg<T>> {
  readonly #transport: Transport;

  /**
   * Creates a queue owned by this thread.
   * @param options A name and a bound.
   * @throws {TypeError} When `maxsize` is not a number.
   * @throws {RangeError} When `maxsize` is negative or `maxItemBytes` below 1.
   */
  constructor(options?: QueueOptions) {
    const what = "create a queue";
    const given = v.options(what, "options", options, [
      "name",
      "maxsize",
      "maxAttempts",
      "onDeadLetter",
      "maxItemBytes",
    ]);
    const limit = v.number(
      what,
      "options.maxItemBytes",
      given.maxItemBytes,
      Infinity,
      { min: 1 },
    );
    if (limit !== Infinity) this.#maxItemBytes = limit;
    const transport = (given as { [TRANSPORT]?: Transport })[TRANSPORT];
    if (transport) {
      this.#transport = transport;
      return;
    }
    const name = v.string(
      what,
      "options.name",
      given.name,
      `queue-${++counter}`,
    );
    const { maxsize, maxAttempts } = queueBounds(what, given);
    const onDeadLetter = v.callback<(msg: Msg<unknown>, error: Error) => void>(
      what,
      "options.onDeadLetter",
      given.onDeadLetter,
    );
    this.#transport = new OwnerTransport(
      name,
      maxsize,
      maxAttempts,
      (entry, error) => {
        const msg = toMsg<T>(entry);
        this.#deadLetters.push({ msg, error });
        onDeadLetter?.(msg, error);
      },
    );
  }

  readonly #deadLetters: DeadLetter<T>[] = [];
  // Left undefined without a limit: the hot put path tests only this.
  #maxItemBytes: number | undefined;

  /**
   * The largest item a put accepts, in estimated bytes (see
   * {@linkcode QueueOptions.maxItemBytes}); `Infinity` when unlimited.
   * @example
   * ```ts
   * import { Queue } from "@workq/workq";
   * console.log(new Queue({ maxItemBytes: 4096 }).maxItemBytes); // 4096
   * ```
   */
  get maxItemBytes(): number {
    return this.#maxItemBytes ?? Infinity;
  }

  /**
   * Items set aside because every worker that took them died, up to
   * `maxAttempts` times (see {@linkcode QueueOptions.maxAttempts}). Only the
   * thread that created the queue sees them.
   */
  get deadLetters(): readonly DeadLetter<T>[] {
    return this.#deadLetters;
  }

  /** The queue's readable name. */
  get name(): string {
    return this.#transport.name;
  }

  /** The bound given at creation; `Infinity` when unbounded. */
  get maxsize(): number {
    return this.#transport.maxsize;
  }

  /**
   * How many items wait in the queue: exact in the thread that created it,
   * the last figure seen in other threads.
   */
  get size(): number {
    return this.#transport.size;
  }

  /**
   * Adds an item. A plain value is wrapped in a {@linkcode Msg} (with
   * `kind` and `order` from the options); a `Msg` is put as it is.
   *
   * @param item The value or message.
   * @param options What to transfer, and the message's kind and order.
   * @returns A promise that resolves once the item is accepted: at once for
   * an unbounded queue, when there is room for a bounded one; over Redis,
   * once the server acknowledged it (puts made together share a round trip;
   * see also {@linkcode Queue.prototype.putMany}).
   * @throws {TypeError} (as a rejection) When the item cannot be cloned: the
   * message names the queue, where the value sits, and its type.
   * @throws {TypeError} When the message's kind is the reserved {@linkcode END}.
   * @throws {RangeError} (as a rejection) When the item is over the queue's
   * `maxItemBytes`.
   * @example Move a buffer into the queue without a copy
   * ```ts
   * import { Queue } from "@workq/workq";
   * const q = new Queue<ArrayBuffer>();
   * const buffer = new ArrayBuffer(1024);
   * await q.put(buffer, { transfer: [buffer] });
   * // It was moved: nothing is left here.
   * console.log(buffer.byteLength); // 0
   * ```
   */
  put(item: T | Msg<T>, options?: PutOptions): Promise<void> {
    let kind: string, data: unknown, order: number;
    if (options !== undefined) {
      try {
        checkPut(this.name, options);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (item instanceof Msg) {
      ({ kind, data, order } = item);
    } else {
      kind = options?.kind ?? "";
      data = item;
      order = options?.order ?? 0;
    }
    let entry: Entry;
    try {
      checkKind(this.name, kind);
      entry = this.#entry(kind, data, order, options?.transfer);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#transport.put(entry);
  }

  /**
   * Adds several items in order, in one go: each is checked as by
   * {@linkcode Queue.prototype.put} before any is put (one that cannot be
   * put rejects the call, and none is added), then they travel together
   * (over Redis: one pipeline, one round trip). For a bounded queue it
   * waits for room, item after item.
   *
   * @param items Values or messages; a `Msg` keeps its kind and order.
   * @returns A promise that resolves once every item is accepted (over
   * Redis: acknowledged by the server).
   * @throws {TypeError} (as a rejection) When `items` is not iterable, an
   * item cannot be cloned, or a message's kind is reserved.
   * @throws {RangeError} (as a rejection) When an item is over the queue's
   * `maxItemBytes`.
   * @throws {RangeError} (as a rejection) Over Redis, when an item is above
   * the server's `proto-max-bulk-len`.
   * @example
   * ```ts
   * import { Queue } from "@workq/workq";
   * const q = new Queue<number>();
   * await q.putMany([1, 2, 3]);
   * console.log(q.size); // 3
   * ```
   */
  putMany(items: Iterable<T | Msg<T>>): Promise<void> {
    const entries: Entry[] = [];
    try {
      if (
        items === null || typeof items !== "object" ||
        typeof (items as Iterable<unknown>)[Symbol.iterator] !== "function"
      ) {
        throw new TypeError(
          `Cannot put into queue "${this.name}": items must be an array or an iterable, received ${
            v.show(items)
          }`,
        );
      }
      const unlimited = this.#maxItemBytes === undefined;
      for (const item of items) {
        if (item instanceof Msg) {
          checkKind(this.name, item.kind);
          entries.push(
            this.#entry(item.kind, item.data, item.order, undefined),
          );
        } else if (typeof item === "number" && unlimited) {
          // The common batch of plain numbers: nothing to check.
          entries.push({ k: "", d: item, o: 0, a: 1, w: false, x: undefined });
        } else entries.push(this.#entry("", item, 0, undefined));
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#transport.putMany(entries);
  }

  // The entry a put sends; throws when the item cannot be put.
  #entry(
    kind: string,
    data: unknown,
    order: number,
    transfer: Transferable[] | undefined,
  ): Entry {
    if (this.#maxItemBytes !== undefined) {
      const bytes = itemBytes(data);
      if (bytes > this.#maxItemBytes) {
        throw new RangeError(
          `Cannot put into queue "${this.name}": the item is ${bytes} bytes (workq's estimate), over the queue's maxItemBytes of ${this.#maxItemBytes}`,
        );
      }
    }
    let wired = false;
    let x = transfer && transfer.length > 0 ? transfer : undefined;
    if (typeof data === "object" && data !== null) {
      // An object of another copy of workq: a Msg would go as plain data.
      if (foreignCopy(data)) {
        throw new TypeError(
          `Cannot put into queue "${this.name}": the item is ${v.show(data)}`,
        );
      }
      // Found now, in the put that holds it, not when a batch is sent later.
      if (findUncloneable(data) !== undefined) {
        throw cloneError(
          `put into queue "${this.name}"`,
          data,
          "not cloneable",
        );
      }
      ({ d: data, w: wired, x } = this.#transport.encode(data, transfer));
    } else if (typeof data === "string" && data.length > MAX_STRING_LENGTH) {
      throw new RangeError(
        `Cannot put into queue "${this.name}": ${tooLong("value", data)}`,
      );
    } else if (typeof data === "function" || typeof data === "symbol") {
      throw cloneError(`put into queue "${this.name}"`, data, "not cloneable");
    }
    return { k: kind, d: data, o: order, a: 1, w: wired, x };
  }

  /**
   * Takes the next message, waiting for one. When the end marker is reached
   * it returns a message whose kind is {@linkcode END}. The message this
   * thread took before counts as finished from this call on.
   *
   * @param options A signal or a timeout to stop waiting.
   * @returns The next message.
   * @throws {DOMException} (as a rejection) `TimeoutError` after `timeout`,
   * or the signal's reason when aborted.
   * @example Wait at most a second
   * ```ts
   * import { Queue } from "@workq/workq";
   * const q = new Queue<string>();
   * await q.put("hello");
   * const msg = await q.get({ timeout: 1000 });
   * console.log(msg.data); // "hello"
   * ```
   */
  get(options?: GetOptions): Promise<Msg<T>> {
    if (options === undefined) {
      const entry = this.#transport.poll();
      if (entry) return Promise.resolve(toMsg<T>(entry));
      return this.#transport.get({}).then(toMsg<T>);
    }
    try {
      const what = `get() from queue "${this.name}"`;
      v.options(what, "options", options, ["timeout", "signal"]);
      v.number(what, "options.timeout", options.timeout, 0, { min: 0 });
      v.signal(what, "options.signal", options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#transport.get(options).then(toMsg<T>);
  }

  /**
   * Takes the next messages, from 1 to `max`: it waits for the first as
   * {@linkcode Queue.prototype.get} does, then adds those already here,
   * without waiting for more. The messages this thread took before count as
   * finished from this call on; these, from its next read. A batch ends at
   * the end marker: it is then the batch's last message, and what was put
   * after it stays for the next read.
   *
   * @param options The most messages to take, and a signal or a timeout to
   * stop waiting.
   * @returns The messages, in order; never empty.
   * @throws {TypeError} (as a rejection) When an option is of the wrong type.
   * @throws {RangeError} (as a rejection) When `max` is not an integer from
   * 1 to 65536.
   * @throws {DOMException} (as a rejection) `TimeoutError` after `timeout`,
   * or the signal's reason when aborted.
   * @example Read 64 at a time
   * ```ts
   * import { Queue } from "@workq/workq";
   * const q = new Queue<number>();
   * await q.putMany([1, 2, 3]);
   * const batch = await q.getMany({ max: 64 });
   * console.log(batch.map((msg) => msg.data)); // [1, 2, 3]
   * ```
   */
  getMany(options?: GetManyOptions): Promise<Msg<T>[]> {
    let max = 64;
    let wait: GetOptions = {};
    if (options !== undefined) {
      try {
        const what = `getMany() from queue "${this.name}"`;
        v.options(what, "options", options, ["max", "timeout", "signal"]);
        max = v.number(what, "options.max", options.max, 64, {
          min: 1,
          max: MAX_BATCH,
          integer: true,
        });
        v.number(what, "options.timeout", options.timeout, 0, { min: 0 });
        v.signal(what, "options.signal", options.signal);
        wait = options;
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#transport.getMany(max, wait).then(toMsgs<T>);
  }

  /**
   * Puts the end marker: readers that iterate stop when they reach it (one
   * marker stops one reader). Items put before it are read before it.
   *
   * @returns A promise that resolves once the marker is in the queue.
   * @example
   * ```ts
   * import { Queue } from "@workq/workq";
   * const q = new Queue<number>();
   * await q.put(1);
   * await q.end();
   * for await (const msg of q) console.log(msg.data); // 1
   * ```
   */
  end(): Promise<void> {
    return this.#transport.put({
      k: END,
      d: undefined,
      o: 0,
      a: 1,
      w: false,
      x: undefined,
    });
  }

  /**
   * Iterates over the messages until the end marker, which is not yielded.
   * @example
   * ```ts
   * import { Queue } from "@workq/workq";
   * const q = new Queue<number>();
   * await q.put(1);
   * await q.put(2);
   * await q.end();
   * const seen = [];
   * for await (const msg of q) seen.push(msg.data);
   * console.log(seen); // [1, 2]
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Msg<T>> {
    // A plain iterator, not an async generator: one promise per message.
    const transport = this.#transport;
    let ended = false;
    const finish = (): IteratorResult<Msg<T>> => {
      ended = true;
      return { done: true, value: undefined };
    };
    const step = (entry: Entry): IteratorResult<Msg<T>> =>
      entry.k === END ? finish() : { done: false, value: toMsg<T>(entry) };
    return {
      next(): Promise<IteratorResult<Msg<T>>> {
        if (ended) return Promise.resolve({ done: true, value: undefined });
        const entry = transport.poll();
        if (entry) return Promise.resolve(step(entry));
        return transport.get({}).then(step);
      },
      return(): Promise<IteratorResult<Msg<T>>> {
        return Promise.resolve(finish());
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  static {
    transportOf = (q) => q.#transport;
  }

  /** @internal Swaps this queue for a descriptor another thread revives. */
  [WIRE](transfer: Transferable[], lifelines: Lifeline[]): WireDescriptor {
    const descriptor = this.#transport.handoff(transfer, lifelines);
    if (this.#maxItemBytes === undefined) return descriptor;
    return { ...descriptor, [LIMIT]: this.#maxItemBytes } as WireDescriptor;
  }
}
brand(Queue);

/**
 * Checks `maxsize` and `maxAttempts`, the options every kind of queue has
 * (defaults filled in).
 */
export function queueBounds(
  what: string,
  given: { maxsize?: number; maxAttempts?: number },
): { maxsize: number; maxAttempts: number } {
  return {
    maxsize: v.number(what, "options.maxsize", given.maxsize, 0, {
      min: 0,
      integer: true,
    }),
    maxAttempts: v.number(what, "options.maxAttempts", given.maxAttempts, 3, {
      min: 1,
      integer: true,
    }),
  };
}

/** Throws a `TypeError` unless `value` is a {@linkcode Queue}. */
export function checkQueue(what: string, name: string, value: unknown): void {
  if (!(value instanceof Queue)) {
    throw new TypeError(
      `Cannot ${what}: ${name} must be a Queue, received ${v.show(value)}`,
    );
  }
}

function checkKind(name: string, kind: string): void {
  if (kind.startsWith(RESERVED)) {
    throw new TypeError(
      `Cannot put into queue "${name}": the kind "${kind}" is reserved (kinds starting with "${RESERVED}" are workq's); use endq() to end a queue`,
    );
  }
}

function checkPut(name: string, options: PutOptions): void {
  const what = `put into queue "${name}"`;
  v.options(what, "options", options, ["transfer", "kind", "order"]);
  v.array(what, "options.transfer", options.transfer);
  if (options.transfer) {
    checkTransferList(what, "options.transfer", options.transfer);
  }
  v.string(what, "options.kind", options.kind, "");
  v.number(what, "options.order", options.order, 0);
}

function toMsgs<T>(entries: Entry[]): Msg<T>[] {
  const out: Msg<T>[] = [];
  for (const entry of entries) out.push(toMsg<T>(entry));
  return out;
}

function toMsg<T>(entry: Entry): Msg<T> {
  const data = entry.w ? decode(entry.d) : entry.d;
  return msgOf<T>(entry.k, data as T, entry.o, entry.a);
}

// The queues this thread was handed, by identity: a queue that arrives again
// (in another message, or as another run argument) is the handle it already
// has, so the thread's puts to it leave through one port, in order.
const handed = new Map<string, WeakRef<Queue<unknown>>>();
const forget = new FinalizationRegistry<string>((id) => {
  if (!handed.get(id)?.deref()) handed.delete(id);
});

onRevive("queue", (d) => {
  const descriptor = d as QueueDescriptor;
  const known = handed.get(descriptor.id)?.deref();
  if (known && transportOf(known).usable) {
    // The spare port: its owner forgets it (nothing was read through it).
    descriptor.port.postMessage({ t: "release", a: 0 });
    descriptor.port.close();
    return known;
  }
  const limit = (descriptor as { [LIMIT]?: number })[LIMIT];
  const q = queueOver<unknown>(new ClientTransport(descriptor), limit);
  handed.set(descriptor.id, new WeakRef(q));
  forget.register(q, descriptor.id);
  return q;
});

/**
 * iterable-queue's shape: a queue with producer and consumer endpoints that
 * knows when it is done — every producer closed, no new producer will come,
 * and nothing is left — so consumers just iterate, with no end marker.
 * @module
 */
import { CLOSE, DONE } from "../msg.ts";
import {
  type GetOptions,
  type PutOptions,
  Queue,
  type QueueOptions,
  transportOf,
} from "../queue/queue.ts";
import {
  decode,
  type Lifeline,
  onRevive,
  WIRE,
  type WireDescriptor,
} from "../wire.ts";

/**
 * What `Consumer.get()` rejects with once the queue is done. (An empty
 * queue that is not done yet makes `get({ timeout })` reject with a
 * `TimeoutError` instead.)
 *
 * @example
 * ```ts
 * import { IterableQueue, QueueDoneError } from "@workq/workq";
 * const iq = new IterableQueue<number>();
 * const consumer = iq.consumer();
 * iq.close();
 * await consumer.get().catch((e) => console.log(e instanceof QueueDoneError)); // true
 * ```
 */
export class QueueDoneError extends Error {
  /**
   * Created by workq when a consumer asks a done queue.
   * @param name The queue's name.
   */
  constructor(name: string) {
    super(
      `Queue "${name}" is done: every producer has closed and nothing is left`,
    );
    this.name = "QueueDoneError";
  }
}

/**
 * A producer endpoint: `put` items, then `close()` when there are no more.
 * It can be handed to a worker (as an argument of `run`, or in a message).
 */
export class Producer<T = unknown> {
  readonly #queue: Queue<T>;
  #closed: boolean;

  /**
   * @internal Use `IterableQueue.producer()`.
   * @param queue The underlying queue.
   * @param closed Whether it was already closed.
   */
  constructor(queue: Queue<T>, closed = false) {
    this.#queue = queue;
    this.#closed = closed;
  }

  /**
   * Adds an item.
   * @param item The item.
   * @param options What to transfer; kind and order.
   * @returns A promise that resolves once the item is accepted.
   * @throws {TypeError} (as a rejection) After `close()`, or for an uncloneable item.
   * @example
   * ```ts
   * import { IterableQueue } from "@workq/workq";
   * const iq = new IterableQueue<string>();
   * const producer = iq.producer();
   * await producer.put("work");
   * await producer.close();
   * ```
   */
  put(item: T, options?: PutOptions): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new TypeError(
          `Cannot put into queue "${this.#queue.name}": this producer has closed`,
        ),
      );
    }
    return this.#queue.put(item, options);
  }

  /**
   * Adds several items in order, in one go (see `Queue.putMany`).
   * @param items The items.
   * @returns A promise that resolves once every item is accepted.
   * @throws {TypeError} (as a rejection) After `close()`, or when an item
   * cannot be put (then none is).
   * @example
   * ```ts
   * import { IterableQueue } from "@workq/workq";
   * const iq = new IterableQueue<number>();
   * const producer = iq.producer();
   * await producer.putMany([1, 2, 3]);
   * await producer.close();
   * ```
   */
  putMany(items: Iterable<T>): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new TypeError(
          `Cannot put into queue "${this.#queue.name}": this producer has closed`,
        ),
      );
    }
    return this.#queue.putMany(items);
  }

  /**
   * Says this producer has nothing more. The signal travels behind its own
   * items, so none of them is lost; a second call does nothing.
   * @returns A promise that resolves once the signal is in the queue.
   * @example
   * ```ts
   * import { IterableQueue } from "@workq/workq";
   * const producer = new IterableQueue().producer();
   * await producer.close();
   * await producer.close(); // nothing happens
   * ```
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return transportOf(this.#queue as Queue<unknown>).put({
      k: CLOSE,
      d: undefined,
      o: 0,
      a: 1,
      w: false,
      x: undefined,
    });
  }

  /** @internal */
  [WIRE](transfer: Transferable[], lifelines: Lifeline[]): WireDescriptor {
    return {
      "workq:wired": "producer",
      closed: this.#closed,
      queue: this.#queue[WIRE](transfer, lifelines),
    } as WireDescriptor;
  }
}

/**
 * A consumer endpoint: iterate with `for await` (the loop ends exactly when
 * the queue is done), or `get()`. It can be handed to a worker.
 */
export class Consumer<T = unknown> implements AsyncIterable<T> {
  readonly #queue: Queue<T>;

  /**
   * @internal Use `IterableQueue.consumer()`.
   * @param queue The underlying queue.
   */
  constructor(queue: Queue<T>) {
    this.#queue = queue;
  }

  /**
   * Takes the next item, waiting for one while the queue is not done.
   * @param options A signal or a timeout.
   * @returns The next item.
   * @throws {QueueDoneError} (as a rejection) When the queue is done.
   * @throws {DOMException} (as a rejection) `TimeoutError` when it is only empty for now.
   * @example
   * ```ts
   * import { IterableQueue } from "@workq/workq";
   * const iq = new IterableQueue<number>();
   * const producer = iq.producer();
   * const consumer = iq.consumer();
   * await producer.put(1);
   * console.log(await consumer.get()); // 1
   * ```
   */
  async get(options?: GetOptions): Promise<T> {
    const msg = await this.#queue.get(options);
    if (msg.kind === DONE) throw new QueueDoneError(this.#queue.name);
    return msg.data;
  }

  /**
   * Iterates over the items until the queue is done.
   * @example
   * ```ts
   * import { IterableQueue } from "@workq/workq";
   * const iq = new IterableQueue<number>();
   * const producer = iq.producer();
   * const consumer = iq.consumer();
   * iq.close();
   * await producer.put(1);
   * await producer.close();
   * for await (const item of consumer) console.log(item); // 1
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const msg = await this.#queue.get();
      if (msg.kind === DONE) return;
      yield msg.data;
    }
  }

  /** @internal */
  [WIRE](transfer: Transferable[], lifelines: Lifeline[]): WireDescriptor {
    return {
      "workq:wired": "consumer",
      queue: this.#queue[WIRE](transfer, lifelines),
    } as WireDescriptor;
  }
}

/**
 * A queue that knows when it is done — iterable-queue's `IterableQueue`.
 * Hand out `producer()` and `consumer()` endpoints (to workers too);
 * producers `close()` when they have nothing more; call `close()` on the
 * queue once no new producer will be made. Consumers' loops then end by
 * themselves when every producer has closed and the queue is drained. Many
 * producers and many consumers: no item lost, none seen twice.
 *
 * @typeParam T The items' type.
 * @example
 * ```ts
 * import { IterableQueue, run } from "@workq/workq";
 * const iq = new IterableQueue<number>();
 * const producer = run(async (p) => {
 *   for (let i = 0; i < 10; i++) await p.put(i);
 *   await p.close();
 * }, iq.producer());
 * const consumer = run(async (c) => {
 *   let sum = 0;
 *   for await (const n of c) sum += n;
 *   return sum;
 * }, iq.consumer());
 * iq.close(); // no new producers
 * await producer;
 * console.log(await consumer); // 45
 * ```
 */
export class IterableQueue<T = unknown> {
  readonly #queue: Queue<T>;

  /**
   * Creates the queue in this thread.
   * @param options A name and a bound, as for {@linkcode Queue}.
   * @throws {TypeError} When an option has the wrong type.
   * @throws {RangeError} When a number option is out of range.
   */
  constructor(options?: QueueOptions) {
    this.#queue = new Queue<T>(options);
  }

  /** The queue's name. */
  get name(): string {
    return this.#queue.name;
  }

  /** Items waiting. */
  get size(): number {
    return this.#queue.size;
  }

  /**
   * Makes a producer endpoint; the queue is not done until it closes.
   * @returns The endpoint.
   * @throws {TypeError} After `close()`: no new producer may come.
   * @example
   * ```ts
   * import { IterableQueue } from "@workq/workq";
   * const producer = new IterableQueue<number>().producer();
   * await producer.put(1);
   * ```
   */
  producer(): Producer<T> {
    if (this.#sealed) {
      throw new TypeError(
        `Cannot make a producer for queue "${this.name}": it was closed`,
      );
    }
    this.#transport().openProducer();
    return new Producer(this.#queue);
  }

  /**
   * Makes a consumer endpoint.
   * @returns The endpoint.
   * @example
   * ```ts
   * import { IterableQueue } from "@workq/workq";
   * const consumer = new IterableQueue<number>().consumer();
   * console.log(typeof consumer.get); // "function"
   * ```
   */
  consumer(): Consumer<T> {
    return new Consumer(this.#queue);
  }

  #sealed = false;

  /**
   * No new producer will be made: once every producer has closed and the
   * queue is drained, it is done. Calling it again does nothing.
   * @example
   * ```ts
   * import { IterableQueue } from "@workq/workq";
   * const iq = new IterableQueue();
   * iq.close();
   * ```
   */
  close(): void {
    this.#sealed = true;
    this.#transport().seal();
  }

  #transport() {
    return transportOf(this.#queue as Queue<unknown>);
  }
}

onRevive("producer", (d) => {
  const descriptor = d as WireDescriptor & { queue: unknown; closed: boolean };
  return new Producer(
    decode(descriptor.queue) as Queue<unknown>,
    descriptor.closed,
  );
});
onRevive(
  "consumer",
  (d) =>
    new Consumer(
      decode((d as WireDescriptor & { queue: unknown }).queue) as Queue<
        unknown
      >,
    ),
);

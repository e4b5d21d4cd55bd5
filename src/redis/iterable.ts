/**
 * iterable-queue's shape over Redis: producer and consumer endpoints, in any
 * process on any host, that know when the queue is done — no producer is
 * still open, none may come, and no entry is unread or pending — so
 * consumers just iterate, with no end marker.
 *
 * Keys beside the stream `<name>`:
 * - `<name>:producers`, a sorted set: one member per open producer, scored
 *   with the server time (ms) at which its lease runs out. A producer's
 *   heartbeat pushes it forward every `producerTtl / 5` ms; `close()`
 *   removes it; a producer that stops (killed with SIGKILL, say) drops out
 *   once its lease has run out, and counts as closed.
 * - `<name>:iterable`, a hash: `opened` (producers made so far) and
 *   `sealed` (no new producer may come: set by `close()` on a handle, or by
 *   the opening of the `producers`-th producer).
 *
 * Done = sealed, no lease left, and the stream empty (an entry leaves the
 * stream only once acknowledged). One Lua script reads the three at once,
 * with the server's clock, so hosts need not agree on the time.
 * @module
 */
import { Consumer, Producer } from "../shapes/iterable_queue.ts";
import { DONE, type Msg } from "../msg.ts";
import { type Queue, queueOver } from "../queue/queue.ts";
import * as v from "../validate.ts";
import type { Client } from "./connection.ts";
import { OPEN, RENEW, STATE } from "./scripts.ts";
import {
  openStream,
  openTransport,
  QUEUE_OPTIONS,
  type QueueSettings,
  queueSettings,
  type RedisQueueOptions,
} from "./queue.ts";
import type { EndingState, RedisTransport } from "./transport.ts";

/** Options of {@linkcode redisIterableQueue}. */
export interface RedisIterableQueueOptions extends RedisQueueOptions {
  /**
   * How many producer endpoints the queue will have, across every process:
   * when the last of them opens, the queue closes to new producers by
   * itself, as if {@linkcode RedisIterableQueue.close} was called. Give
   * every producing process the same count. `0`: no count, call `close()`
   * once every producer has opened. @default 0
   */
  producers?: number;
  /**
   * How long (ms) a producer may go silent before it counts as closed: a
   * live producer renews its lease every `producerTtl / 5` ms, so a
   * producer whose process was killed keeps the queue open at most this
   * long. Keep it above the longest synchronous stretch of a producer: one
   * whose lease ran out has its further puts refused. @default 5000
   */
  producerTtl?: number;
}

const STATES: EndingState[] = ["open", "draining", "done"];

/**
 * A consumer endpoint of a {@linkcode RedisIterableQueue}: iterate with
 * `for await` (the loop ends by itself when the queue is done), or `get()`
 * ({@linkcode QueueDoneError} once done). It is the in-process `Consumer`,
 * plus {@linkcode RedisConsumer.messages} for the delivery count.
 *
 * Each item reaches one consumer, at least once: an item is acknowledged
 * when its reader asks for the next one; the items of a consumer that died
 * go to another after `claimIdle` ms. Once done, the endpoint's connections
 * are closed.
 *
 * @typeParam T The items' type.
 */
export class RedisConsumer<T = unknown> extends Consumer<T> {
  readonly #queue: Queue<T>;

  /**
   * @internal Use {@linkcode RedisIterableQueue.consumer}.
   * @param queue The queue over the endpoint's transport.
   */
  constructor(queue: Queue<T>) {
    super(queue);
    this.#queue = queue;
  }

  /**
   * Iterates like the endpoint itself, until the queue is done, but yields
   * each item as a {@linkcode Msg}: its `attempt` is above 1 when the item
   * was delivered again because a consumer that held it stopped.
   * @returns An iterator of messages.
   * @example Skip work already done by a consumer that died
   * ```ts ignore
   * import { redisIterableQueue } from "@workq/workq/redis";
   * const url = "redis://127.0.0.1:6379";
   * const iq = await redisIterableQueue<string>(url, "urls", { producers: 1 });
   * const producer = await iq.producer();
   * await producer.put("https://example.com/");
   * await producer.close();
   * const consumer = await iq.consumer();
   * for await (const msg of consumer.messages()) {
   *   if (msg.attempt > 1) console.log("again:", msg.data);
   *   else console.log(msg.data); // https://example.com/
   * }
   * await iq.disconnect();
   * ```
   */
  async *messages(): AsyncGenerator<Msg<T>, void, undefined> {
    for (;;) {
      const msg = await this.#queue.get();
      if (msg.kind === DONE) return;
      yield msg;
    }
  }
}

interface Endpoint {
  close(): Promise<void>;
}

/**
 * A done-aware queue in Redis, iterable-queue's `IterableQueue` across
 * processes and hosts: open it with {@linkcode redisIterableQueue} wherever
 * producers or consumers run. Producers `close()` when they have nothing
 * more; consumers' loops end by themselves once the queue is done: it was
 * closed to new producers ({@linkcode RedisIterableQueue.close}, or the
 * `producers` count reached), every producer closed or lost its lease, and
 * no entry is unread or pending.
 *
 * @typeParam T The items' type.
 */
export class RedisIterableQueue<T = unknown> {
  readonly #settings: QueueSettings;
  readonly #client: Client;
  readonly #expected: number;
  readonly #ttl: number;
  readonly #producersKey: string;
  readonly #stateKey: string;
  readonly #endpoints = new Set<Endpoint>();
  #disconnected = false;

  /**
   * @internal Use {@linkcode redisIterableQueue}.
   * @param settings The stream's URL, name and options.
   * @param client The handle's own connection.
   * @param expected How many producers the queue will have (0: not counted).
   * @param ttl A producer's lease, in ms.
   */
  constructor(
    settings: QueueSettings,
    client: Client,
    expected: number,
    ttl: number,
  ) {
    this.#settings = settings;
    this.#client = client;
    this.#expected = expected;
    this.#ttl = ttl;
    this.#producersKey = `${settings.name}:producers`;
    this.#stateKey = `${settings.name}:iterable`;
  }

  /** The queue's name: its stream's key. */
  get name(): string {
    return this.#settings.name;
  }

  #check(what: string): void {
    if (this.#disconnected) {
      throw new TypeError(
        `Cannot ${what} for queue "${this.name}": this handle was disconnected`,
      );
    }
  }

  /**
   * Makes a producer endpoint, with a connection of its own; the queue is
   * not done until it closes (or, if its process stops, until its lease
   * runs out after `producerTtl`). Its `close()` sends its puts, says it
   * has closed, and closes its connection.
   * @returns The endpoint: the in-process `Producer`, over Redis.
   * @throws {TypeError} (as a rejection) When the queue was closed to new
   * producers, or this handle disconnected.
   * @throws {Error} (as a rejection) When the server cannot be reached.
   * @example
   * ```ts ignore
   * import { redisIterableQueue } from "@workq/workq/redis";
   * const iq = await redisIterableQueue<number>("redis://127.0.0.1:6379", "jobs");
   * const producer = await iq.producer();
   * for (let i = 0; i < 100; i++) await producer.put(i);
   * await producer.close();
   * await iq.disconnect();
   * ```
   */
  async producer(): Promise<Producer<T>> {
    const what = "make a producer";
    this.#check(what);
    const key = this.#producersKey;
    const ttl = this.#ttl;
    let renewing: ReturnType<typeof setInterval> | undefined;
    const stop = () => {
      clearInterval(renewing);
      renewing = undefined;
    };
    // The lease is named after the transport's unique consumer name.
    const transport: RedisTransport = await openTransport(this.#settings, {
      close: async (client) => {
        stop();
        await client.zrem(key, transport.consumer);
      },
    });
    const id = transport.consumer;
    let opened: number;
    try {
      opened = Number(
        await OPEN.run(transport.client, [key, this.#stateKey], [
          id,
          ttl,
          this.#expected,
        ]),
      );
    } catch (error) {
      await transport.close().catch(() => {});
      throw new Error(
        `Cannot ${what} for queue "${this.name}": ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (opened < 0) {
      await transport.close().catch(() => {});
      throw new TypeError(
        `Cannot ${what} for queue "${this.name}": it was closed`,
      );
    }
    renewing = setInterval(() => {
      RENEW.run(transport.client, [key], [id, ttl]).then((alive) => {
        if (renewing === undefined || Number(alive) === 1) return;
        stop();
        transport.refuse(
          new Error(
            `Cannot put into queue "${this.name}": this producer was silent for more than producerTtl (${ttl} ms) and counts as closed`,
          ),
        );
      }, () => {
        // A missed renewal; the next one may get through before the lease ends.
      });
    }, Math.max(10, Math.floor(ttl / 5)));
    const producer = new Producer<T>(queueOver<T>(transport));
    const endpoint: Endpoint = {
      close: async () => {
        this.#endpoints.delete(endpoint);
        try {
          await producer.close();
        } finally {
          stop();
          await transport.close();
        }
      },
    };
    this.#endpoints.add(endpoint);
    return producer;
  }

  /**
   * Makes a consumer endpoint, with connections of its own: its loop ends
   * by itself when the queue is done, and then its connections close.
   * @returns The endpoint.
   * @throws {TypeError} (as a rejection) When this handle disconnected.
   * @throws {Error} (as a rejection) When the server cannot be reached.
   * @example
   * ```ts ignore
   * import { redisIterableQueue } from "@workq/workq/redis";
   * const url = "redis://127.0.0.1:6379";
   * const iq = await redisIterableQueue<number>(url, "jobs", { producers: 1 });
   * const producer = await iq.producer();
   * await producer.putMany([1, 2, 3]);
   * await producer.close();
   * const consumer = await iq.consumer();
   * let sum = 0;
   * for await (const n of consumer) sum += n; // ends when the queue is done
   * console.log(sum); // 6
   * await iq.disconnect();
   * ```
   */
  async consumer(): Promise<RedisConsumer<T>> {
    this.#check("make a consumer");
    const keys = [this.name, this.#producersKey, this.#stateKey];
    const transport = await openTransport(this.#settings, {
      state: async (client) =>
        STATES[Number(await STATE.run(client, keys, []))] ?? "open",
    });
    const endpoint: Endpoint = {
      close: async () => {
        this.#endpoints.delete(endpoint);
        await transport.close();
      },
    };
    this.#endpoints.add(endpoint);
    return new RedisConsumer<T>(queueOver<T>(transport));
  }

  /**
   * No new producer will be made, in any process: once every producer has
   * closed (or lost its lease) and the queue is drained, it is done.
   * Calling it again does nothing. The `producers` option does it by itself.
   * @returns A promise that resolves once Redis has it.
   * @throws {TypeError} (as a rejection) When this handle disconnected.
   * @example
   * ```ts ignore
   * import { redisIterableQueue } from "@workq/workq/redis";
   * const iq = await redisIterableQueue("redis://127.0.0.1:6379", "jobs");
   * const producer = await iq.producer();
   * await iq.close(); // no more producers; done once this one closes
   * await producer.close();
   * await iq.disconnect();
   * ```
   */
  async close(): Promise<void> {
    this.#check("close to new producers");
    await this.#client.hset(this.#stateKey, "sealed", "1");
  }

  /**
   * Closes the endpoints made through this handle that are still open —
   * producers as by their `close()`; consumers acknowledge what they read
   * and give back what they prefetched and did not read — then the
   * handle's connection. A process with an open handle does not exit.
   * Calling it again does nothing.
   * @returns A promise that resolves once all that is done.
   * @throws {Error} (as a rejection) The first failure of a producer's
   * close (a put that did not reach Redis), once everything is closed.
   * @example
   * ```ts ignore
   * import { redisIterableQueue } from "@workq/workq/redis";
   * const iq = await redisIterableQueue("redis://127.0.0.1:6379", "jobs");
   * await iq.disconnect();
   * ```
   */
  async disconnect(): Promise<void> {
    if (this.#disconnected) return;
    this.#disconnected = true;
    let failure: unknown;
    for (const endpoint of [...this.#endpoints]) {
      try {
        await endpoint.close();
      } catch (error) {
        failure ??= error;
      }
    }
    await this.#client.quit().catch(() => this.#client.disconnect());
    if (failure) throw failure;
  }
}

/**
 * Opens the done-aware queue `name` in the Redis server at `url`:
 * iterable-queue's `IterableQueue`, with producers and consumers in any
 * process on any host. Each process opens its own handle with the same URL
 * and name and makes the endpoints it needs; consumers' loops end by
 * themselves when the queue is done — closed to new producers (by
 * `producers` or `close()`), every producer closed or silent for
 * `producerTtl`, and every item finished.
 *
 * Items travel as in {@linkcode redisQueue} (same encoding, at least once,
 * an item of a consumer that died taken over after `claimIdle`, at most
 * `maxAttempts` deliveries). A name is for one run: once done, a queue
 * stays closed to new producers; pick a new name, or delete the keys
 * `<name>`, `<name>:producers` and `<name>:iterable`.
 *
 * @typeParam T The items' type.
 * @param url `redis://[user:password@]host:port[/db]` or `rediss://...`.
 * @param name The stream's key.
 * @param options The producer count and lease, and {@linkcode redisQueue}'s options.
 * @returns The handle, once connected.
 * @throws {TypeError} When the URL is malformed or an option has the wrong type.
 * @throws {RangeError} When a number option is out of range.
 * @throws {Error} When the server cannot be reached within `connectTimeout`.
 * @example Two producer processes, any number of consumer processes
 * <!-- test: split 2 1 -->
 * ```ts ignore
 * import { redisIterableQueue } from "@workq/workq/redis";
 * const url = "redis://127.0.0.1:6379";
 *
 * // in each of the 2 producer processes:
 * const iq = await redisIterableQueue<number>(url, "jobs", { producers: 2 });
 * const producer = await iq.producer();
 * for (let i = 0; i < 1000; i++) await producer.put(i);
 * await producer.close();
 * await iq.disconnect();
 *
 * // in each consumer process:
 * const cq = await redisIterableQueue<number>(url, "jobs");
 * let sum = 0;
 * for await (const n of await cq.consumer()) sum += n; // ends by itself
 * // With one consumer process, it saw both producers' items:
 * console.log(sum); // 999000
 * await cq.disconnect();
 * ```
 */
export async function redisIterableQueue<T = unknown>(
  url: string,
  name: string,
  options?: RedisIterableQueueOptions,
): Promise<RedisIterableQueue<T>> {
  const what = "open a Redis iterable queue";
  const settings = queueSettings(what, url, name, options, [
    ...QUEUE_OPTIONS,
    "producers",
    "producerTtl",
  ]);
  const given = v.options(what, "options", options);
  const expected = v.number(what, "options.producers", given.producers, 0, {
    min: 0,
    integer: true,
  });
  const ttl = v.number(what, "options.producerTtl", given.producerTtl, 5000, {
    min: 1,
    integer: true,
  });
  const client = await openStream(
    settings.server,
    name,
    settings.connectTimeout,
  );
  return new RedisIterableQueue<T>(settings, client, expected, ttl);
}

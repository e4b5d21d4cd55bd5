/**
 * Opening, ending and closing queues that live in Redis: the public
 * functions of `@workq/workq/redis`.
 * @module
 */
import { Msg } from "../msg.ts";
import {
  type DeadLetter,
  type Queue,
  queueBounds,
  queueOver,
} from "../queue/queue.ts";
import * as v from "../validate.ts";
import {
  checkServer,
  type Client,
  connect,
  type RedisTlsOptions,
  type Server,
} from "./connection.ts";
import { decodeValue } from "./encoding.ts";
import {
  DEFAULT_MAX_BULK,
  type Ending,
  GROUP,
  type MaxItem,
  RedisTransport,
  type RedisTransportOptions,
} from "./transport.ts";

/** Options of {@linkcode redisQueue}. */
export interface RedisQueueOptions {
  /**
   * The most unfinished items (waiting or held by consumers) the stream
   * holds; `put` waits for room beyond it. `0` means unbounded. The bound
   * belongs to the handle: give every producer the same. @default 0
   */
  maxsize?: number;
  /**
   * How many times an item may be delivered to consumers that stopped
   * before finishing it (killed, or stalled past `claimIdle`) before it is
   * moved to the stream `<name>:dead`. @default 3
   */
  maxAttempts?: number;
  /**
   * How long (ms) a consumer may go silent before another takes over the
   * items it holds. A live consumer refreshes its items every `claimIdle / 5`
   * ms, unless its event loop is blocked that long: keep it above the
   * longest synchronous stretch of one item. @default 1000
   */
  claimIdle?: number;
  /** Give up connecting after this many ms. @default 5000 */
  connectTimeout?: number;
  /**
   * The ACL user to log in as, instead of one in the URL (`redis://user:password@`).
   */
  username?: string;
  /**
   * The password, instead of one in the URL: read it from a secret store
   * or the environment rather than writing it into a URL. No error,
   * stack, `cause` or inspected form of one that workq makes holds it.
   * @example
   * <!-- test: skip needs a server with an ACL user; tests/redis/security_test.ts does this -->
   * ```ts ignore
   * import process from "node:process";
   * import { closeQueue, redisQueue } from "@workq/workq/redis";
   * const q = await redisQueue("redis://10.0.0.5:6379", "jobs", {
   *   username: "worker",
   *   password: process.env.REDIS_PASSWORD,
   * });
   * await closeQueue(q);
   * ```
   */
  password?: string;
  /**
   * TLS settings of a `rediss://` URL: the CA that signed the server's
   * certificate (a self-signed one, say), and a client certificate for a
   * server that asks for one (`tls-auth-clients yes`). Given with a
   * `redis://` URL, it is an error: that connection would not be
   * encrypted.
   * @example
   * <!-- test: skip needs a TLS server and its CA; tests/redis/security_test.ts does this -->
   * ```ts ignore
   * import { readFileSync } from "node:fs";
   * import { closeQueue, redisQueue } from "@workq/workq/redis";
   * const q = await redisQueue("rediss://redis.internal:6380", "jobs", {
   *   tls: { ca: readFileSync("ca.crt", "utf8") },
   * });
   * await closeQueue(q);
   * ```
   */
  tls?: RedisTlsOptions;
  /**
   * The largest item (encoded, in bytes) a put takes: a put above it
   * rejects with a `RangeError` naming the size and the limit, and the
   * queue goes on. At most the server's `proto-max-bulk-len`, above which
   * Redis would drop the connection. @default the server's
   * `proto-max-bulk-len` when `CONFIG GET` is allowed, else 512 MiB
   * @example
   * ```ts ignore
   * import { closeQueue, redisQueue } from "@workq/workq/redis";
   * const q = await redisQueue("redis://127.0.0.1:6379", "jobs", {
   *   maxItemBytes: 1024 * 1024,
   * });
   * await q.put("a".repeat(2 * 1024 * 1024)).catch((e) => console.log(e.name)); // RangeError
   * await q.put("small"); // the queue goes on
   * await closeQueue(q);
   * ```
   */
  maxItemBytes?: number;
}

/** The options of {@linkcode RedisQueueOptions}, for the check of unknown keys. */
export const QUEUE_OPTIONS: readonly string[] = [
  "maxsize",
  "maxAttempts",
  "claimIdle",
  "connectTimeout",
  "username",
  "password",
  "tls",
  "maxItemBytes",
];

const transports = new WeakMap<Queue<unknown>, RedisTransport>();

function transportOf(what: string, q: Queue<unknown>): RedisTransport {
  const transport = transports.get(q);
  if (!transport) {
    throw new TypeError(
      `Cannot ${what}: q must be a queue from redisQueue(), received ${
        v.show(q)
      }`,
    );
  }
  return transport;
}

/**
 * Opens the queue `name` in the Redis server at `url`: a Redis stream of
 * that name, read through the consumer group `workq` (created if missing).
 * Every process that opens the same URL and name shares the queue: each
 * item reaches one consumer.
 *
 * @typeParam T The type of the items' data.
 * @param url `redis://[user:password@]host:port[/db]` or `rediss://...`.
 * @param name The stream's key.
 * @param options Bound, redelivery limit, claim time, connect timeout.
 * @returns The queue, with the API of an in-process {@linkcode Queue}.
 * @throws {TypeError} When the URL is malformed or an option is wrong.
 * @throws {Error} When the server cannot be reached within `connectTimeout`.
 * @example
 * ```ts ignore
 * import { closeQueue, redisQueue } from "@workq/workq/redis";
 * const q = await redisQueue<number>("redis://127.0.0.1:6379", "jobs");
 * await q.put(42);
 * console.log((await q.get()).data); // 42
 * await closeQueue(q);
 * ```
 */
export async function redisQueue<T = unknown>(
  url: string,
  name: string,
  options?: RedisQueueOptions,
): Promise<Queue<T>> {
  const settings = queueSettings("open a Redis queue", url, name, options);
  const transport = await openTransport(settings);
  const q = queueOver<T>(transport);
  transports.set(q, transport);
  return q;
}

/** A queue's server, name and checked options: what a transport is opened with. */
export interface QueueSettings
  extends Omit<RedisTransportOptions, "ending" | "maxItem"> {
  /** `options.maxItemBytes`; the server's limit when undefined. */
  maxItemBytes: number | undefined;
}

/**
 * Checks the URL, the name and {@linkcode RedisQueueOptions} (defaults filled in).
 * @param known The option names the caller takes (its own and these).
 * @throws {TypeError} When the URL is malformed or an option has the wrong
 * type or is not an option.
 * @throws {RangeError} When a number option is out of range.
 */
export function queueSettings(
  what: string,
  url: string,
  name: string,
  options: RedisQueueOptions | undefined,
  known: readonly string[] = QUEUE_OPTIONS,
): QueueSettings {
  const given = v.options(what, "options", options, known);
  const server = checkServer(what, url, given);
  v.string(what, "name", name, "");
  if (name === "") {
    throw new TypeError(`Cannot ${what}: name must not be empty`);
  }
  const { maxsize, maxAttempts } = queueBounds(what, given);
  const maxItemBytes = given.maxItemBytes === undefined
    ? undefined
    : v.number(what, "options.maxItemBytes", given.maxItemBytes, 0, {
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
      integer: true,
    });
  const claimIdle = v.number(what, "options.claimIdle", given.claimIdle, 1000, {
    min: 1,
  });
  const connectTimeout = v.number(
    what,
    "options.connectTimeout",
    given.connectTimeout,
    5000,
    { min: 1 },
  );
  return {
    server,
    name,
    maxsize,
    maxAttempts,
    claimIdle,
    connectTimeout,
    maxItemBytes,
  };
}

/**
 * Connects and makes sure the stream `name` and its consumer group exist.
 * @throws {Error} When the server cannot be reached or refuses.
 */
export async function openStream(
  server: Server,
  name: string,
  connectTimeout: number,
): Promise<Client> {
  const client = await connect(server, { connectTimeout });
  try {
    await client.xgroup("CREATE", name, GROUP, "0", "MKSTREAM");
  } catch (error) {
    if (!String((error as Error).message).startsWith("BUSYGROUP")) {
      client.disconnect();
      throw new Error(
        `Cannot open the Redis queue "${name}": ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return client;
}

/** Opens a transport over the stream (see {@linkcode openStream}). */
export async function openTransport(
  settings: QueueSettings,
  ending?: Ending,
): Promise<RedisTransport> {
  const client = await openStream(
    settings.server,
    settings.name,
    settings.connectTimeout,
  );
  let size: number;
  let bulk: MaxItem;
  try {
    size = await client.xlen(settings.name);
    bulk = await maxBulkLength(client);
  } catch (error) {
    client.disconnect();
    throw new Error(
      `Cannot open the Redis queue "${settings.name}": ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  const { maxItemBytes, ...rest } = settings;
  // Above the server's limit Redis drops the connection: that limit wins.
  const maxItem: MaxItem = maxItemBytes !== undefined &&
      maxItemBytes <= bulk.bytes
    ? { bytes: maxItemBytes, name: "options.maxItemBytes" }
    : bulk;
  return new RedisTransport(client, { ...rest, ending, maxItem }, size);
}

// The largest argument the server takes; its default where CONFIG is not
// allowed (managed services, ACLs).
async function maxBulkLength(client: Client): Promise<MaxItem> {
  try {
    const reply = await client.config("GET", "proto-max-bulk-len") as unknown;
    const n = Number((reply as string[])[1]);
    if (Number.isSafeInteger(n) && n > 0) {
      return { bytes: n, name: "the Redis server's proto-max-bulk-len" };
    }
  } catch {
    // not allowed here
  }
  return {
    bytes: DEFAULT_MAX_BULK,
    name:
      "512 MiB, Redis's default proto-max-bulk-len (this user may not CONFIG GET the server's)",
  };
}

/**
 * Closes a Redis queue's handle: waits until its puts are in Redis, marks
 * every item read through it as finished (acknowledged), gives unread
 * prefetched items back for other consumers, and closes its connections.
 * A process holding an open handle does not exit.
 *
 * @param q A queue from {@linkcode redisQueue}.
 * @returns A promise that resolves once all that is done.
 * @throws {TypeError} When `q` is not a Redis queue.
 * @example
 * ```ts ignore
 * import { closeQueue, redisQueue } from "@workq/workq/redis";
 * const q = await redisQueue("redis://127.0.0.1:6379", "jobs");
 * await q.put("hello");
 * await closeQueue(q); // "hello" stays in Redis for other processes
 * ```
 */
export async function closeQueue(q: Queue<unknown>): Promise<void> {
  await transportOf("close a Redis queue", q).close();
}

/** Options of {@linkcode endqAndWaitRemote}. */
export interface RemoteWaitOptions {
  /** Give up after this many ms with a `TimeoutError`. @default Infinity */
  timeout?: number;
  /** Stops waiting when aborted. */
  signal?: AbortSignal;
}

/**
 * The `endqAndWait` of remote workers: puts one end marker per worker, then
 * waits until every item and every marker was finished. A worker finishes
 * its marker only after its task returned and its puts (a result, say) are
 * in Redis, so when this resolves the workers' outputs are all there.
 *
 * A worker that dies (silent for its `claimIdle`) is not replaced: the
 * items it held go to the others, and its marker is retired once only
 * markers are left, no live worker holds or waits for one, and there are
 * no more of them than dead workers. A worker that has not started yet is
 * not dead: its marker waits for it.
 *
 * @param q A queue from {@linkcode redisQueue}.
 * @param workers How many workers read the queue.
 * @param options A timeout or a signal.
 * @returns A promise that resolves once every item and marker is finished.
 * @throws {TypeError} When `q` is not a Redis queue or `workers` not a count.
 * @throws {DOMException} `TimeoutError` after `timeout`, or the signal's reason.
 * @throws {Error} When the queue is lost (the server restarted without its
 * data, or the stream was deleted), or Redis cannot be reached.
 * @example
 * <!-- test: workers 2 --queue sum-in --results sum-out --module tasks.ts --export sum --claim-idle 10000 -->
 * ```ts ignore
 * import { closeQueue, endqAndWaitRemote, redisQueue } from "@workq/workq/redis";
 * const inQ = await redisQueue<number>("redis://127.0.0.1:6379", "sum-in");
 * await inQ.putMany(Array.from({ length: 1000 }, (_, i) => i));
 * await endqAndWaitRemote(inQ, 2); // 2 workers started with the CLI
 * await closeQueue(inQ);
 * ```
 */
export async function endqAndWaitRemote(
  q: Queue<unknown>,
  workers: number,
  options?: RemoteWaitOptions,
): Promise<void> {
  const what = "end a Redis queue with endqAndWaitRemote()";
  const transport = transportOf(what, q);
  v.number(what, "workers", workers, 0, { min: 0, integer: true });
  const given = v.options(what, "options", options);
  const timeout = v.number(what, "options.timeout", given.timeout, Infinity, {
    min: 0,
  });
  const signal = v.signal(what, "options.signal", given.signal);
  for (let i = 0; i < workers; i++) await q.end();
  await transport.settle();
  const until = performance.now() + timeout;
  let pause = 5;
  let failures = 0;
  for (;;) {
    signal?.throwIfAborted();
    let left: number;
    try {
      left = await transport.unfinished("wait for");
      failures = 0;
    } catch (error) {
      if (String((error as Error)?.message).includes("the queue is lost")) {
        throw error;
      }
      // The client rides out a short outage; past a few tries, give up.
      if (++failures > 5) {
        throw new Error(
          `endqAndWaitRemote() on queue "${transport.name}": Redis did not answer: ${
            (error as Error)?.message
          }`,
          { cause: error },
        );
      }
      left = NaN;
    }
    if (left === 0) return;
    if (performance.now() >= until) {
      throw new DOMException(
        `endqAndWaitRemote() on queue "${transport.name}" timed out after ${timeout} ms with ${left} entries unfinished`,
        "TimeoutError",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 100);
  }
}

/**
 * Reads the items set aside in the stream `<name>:dead`: each was delivered
 * more than `maxAttempts` times to consumers that stopped holding it.
 *
 * @param q A queue from {@linkcode redisQueue}.
 * @returns The items, oldest first, each with an error that says why.
 * @throws {TypeError} When `q` is not a Redis queue.
 * @example
 * ```ts ignore
 * import { closeQueue, deadLetters, redisQueue } from "@workq/workq/redis";
 * const q = await redisQueue("redis://127.0.0.1:6379", "jobs");
 * for (const { msg, error } of await deadLetters(q)) {
 *   console.log(msg.data, error.message);
 * }
 * await closeQueue(q);
 * ```
 */
export async function deadLetters<T = unknown>(
  q: Queue<T>,
): Promise<DeadLetter<T>[]> {
  const transport = transportOf("read dead letters", q as Queue<unknown>);
  const rows = await transport.client.xrangeBuffer(transport.deadKey, "-", "+");
  return rows.map(([, fields]) => {
    let kind = "";
    let order = 0;
    let data: unknown;
    let deliveries = 0;
    let id = "";
    for (let i = 0; i < fields.length; i += 2) {
      const key = fields[i].toString();
      const value = fields[i + 1];
      if (key === "d") data = decodeValue(value);
      else if (key === "k") kind = value.toString();
      else if (key === "o") order = Number(value.toString());
      else if (key === "deliveries") deliveries = Number(value.toString());
      else if (key === "id") id = value.toString();
    }
    return {
      msg: new Msg<T>({ kind, data: data as T, order }, deliveries),
      error: new Error(
        `Item ${id} of queue "${transport.name}" was delivered ${deliveries} times to consumers that stopped (claimed after ${transport.claimIdle} ms idle)`,
      ),
    };
  });
}

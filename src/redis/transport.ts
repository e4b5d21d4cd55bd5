/**
 * A queue's transport over a Redis stream, for consumers in other processes
 * and on other hosts. The same contract as the in-process transports:
 *
 * - **Puts** are encoded at once (`encoding.ts`), checked against
 *   `maxItemBytes` (at most the server's `proto-max-bulk-len`), and written many per round trip by a
 *   Lua script, "add while the length is below the bound" (no bound for
 *   an unbounded queue), flushed at 256 or on the next turn of the event
 *   loop (`putMany`: at once). A put resolves only once Redis acknowledged
 *   its item. A bounded queue retries what found no room later: nothing is
 *   ever trimmed.
 * - **A lost queue** (its stream gone: the server restarted without its
 *   data, or the key was deleted) is an error: the script adds nothing to
 *   a stream that does not exist (an XADD would make a new one, that
 *   nobody reads); the put rejects instead.
 * - **Gets** read from one consumer group with `XREADGROUP COUNT n BLOCK t`;
 *   `n` (the prefetch window) adapts to the reader's time per item.
 * - **Acks.** An item is finished when its reader asks for the next one,
 *   and acknowledged (`XACK` + `XDEL`, batched) only once every put this
 *   thread made before that moment, to any queue, was accepted by its
 *   engine (committed: see `../queue/ledger.ts`): the stream's length means
 *   "not finished". A bounded put waiting for room in the very queue being
 *   read does not hold back that queue's acks: the room it waits for comes
 *   from them.
 * - **Dead consumers.** Items a consumer holds are kept fresh by a
 *   heartbeat; the items of a consumer that stopped (killed, or its event
 *   loop blocked) for `claimIdle` ms are taken over by another with
 *   `XAUTOCLAIM`. An item delivered more than `maxAttempts` times is moved to
 *   the stream `<name>:dead` instead.
 * - **End markers are barriers**, as in-process: a consumer hands an end
 *   marker to its reader only when no data item before it is still pending
 *   anywhere (it takes over stalled ones meanwhile).
 * - **Leaving.** A consumer that closes holding nothing leaves the group;
 *   one still in it, silent past its claim time (carried in its name) and
 *   whose reader's connection (named after it) is closed, is dead. `endqAndWaitRemote` retires dead workers' end markers by that
 *   rule (see UNFINISHED), so n workers, n markers and a worker killed
 *   with none in its place still end.
 * - **Done-aware endpoints** (`iterable.ts`) plug in an {@linkcode Ending}:
 *   a producer's close signal is sent once its puts are in Redis; a
 *   consumer with nothing left to read asks whether the queue is done (it
 *   acknowledges what it read first) and then answers its readers with a
 *   done signal, for good.
 * @module
 */
import { Pace } from "../queue/pace.ts";
import { Buffer } from "node:buffer";
import { CLOSE, DONE, END } from "../msg.ts";
import { Deque } from "../queue/deque.ts";
import { type Group, ledger, type Reader } from "../queue/ledger.ts";
import { endsBatch, type Entry } from "../queue/entry.ts";
import {
  cutShort,
  type Transport,
  type WaitOptions,
} from "../queue/transport.ts";
import { soon } from "../schedule.ts";
import { type EncodedItem, holdsLive, type WireDescriptor } from "../wire.ts";
import { type Client, connect, type Server } from "./connection.ts";
import {
  ACK,
  ACK_MAX,
  ADD_UP_TO,
  BARRIER,
  CLAIM,
  HEARTBEAT,
  LEAVE,
  UNFINISHED,
} from "./scripts.ts";
import { decodeValue, encodeValue } from "./encoding.ts";

/** The consumer group every workq reader of a stream joins. */
export const GROUP = "workq";
/** The pseudo-consumer that holds items given back unread. */
const RETURNED = "workq:returned";

const FLUSH_AT = 256;
// A bounded queue's script call carries at most this many bytes of items:
// one command must stay far below the server's query buffer limit (1 GB).
const SCRIPT_BYTES = 64 * 1024 * 1024;
const MAX_WINDOW = 256;
const TARGET_MS = 5;
/** The server's default `proto-max-bulk-len`: the largest argument it takes. */
export const DEFAULT_MAX_BULK = 512 * 1024 * 1024;
// A waiting consumer looks for items to take over at least this often:
// items a consumer gave back on release are claimable at once, and must
// not wait for a long claimIdle.
const LOOK_AGAIN_MS = 500;

/**
 * Where a done-aware queue stands, seen by a consumer: `"open"` (a producer
 * may still put), `"draining"` (none may, but entries are unread or
 * pending) or `"done"`.
 */
export type EndingState = "open" | "draining" | "done";

/** What makes a transport an endpoint of a done-aware queue (`iterable.ts`). */
export interface Ending {
  /**
   * Consumers: where the queue stands. Asked when a reader waits and
   * nothing is here, once this handle's reads are acknowledged.
   */
  state?(client: Client): Promise<EndingState>;
  /**
   * Producers: says that this producer has closed; called once every put
   * it made is in Redis.
   */
  close?(client: Client): Promise<void>;
}

/** The largest item a put takes, and the name of that limit for messages. */
export interface MaxItem {
  bytes: number;
  name: string;
}

/** Settings of a {@linkcode RedisTransport}. */
export interface RedisTransportOptions {
  server: Server;
  name: string;
  maxsize: number;
  maxAttempts: number;
  claimIdle: number;
  connectTimeout: number;
  /** Done-awareness, for the endpoints of `iterable.ts`. */
  ending?: Ending | undefined;
  /** The item limit. @default DEFAULT_MAX_BULK, the server's default */
  maxItem?: MaxItem | undefined;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void, reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection is reported through put(), settle() or the commit rule.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

// What a put or a putMany waits for: all of its items in Redis.
interface Ticket {
  left: number;
  resolve(): void;
  reject(error: unknown): void;
}

interface Outgoing {
  k: string;
  o: number;
  d: Uint8Array;
  ticket: Ticket;
}

function ticket(count: number): { ticket: Ticket; promise: Promise<void> } {
  let t!: Ticket;
  const promise = new Promise<void>((resolve, reject) => {
    t = { left: count, resolve, reject };
  });
  return { ticket: t, promise };
}

type ScriptArg = string | number | Uint8Array;

// The bound ADD_UP_TO is given for an unbounded queue.
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

// ADD_UP_TO's arguments for items[from..end): at most FLUSH_AT * 4 items
// and SCRIPT_BYTES of data (always one item at least). Items with no kind
// and no options (most) take one argument each: a third of the arguments
// to convert, send and parse.
function scriptArgs(
  cap: number,
  items: Outgoing[],
  from: number,
): { args: ScriptArg[]; end: number } {
  let bytes = 0;
  let end = from;
  let plain = true;
  for (; end < items.length && end - from < FLUSH_AT * 4; end++) {
    const item = items[end];
    if (end > from && bytes + item.d.byteLength > SCRIPT_BYTES) break;
    bytes += item.d.byteLength;
    if (item.k !== "" || item.o !== 0) plain = false;
  }
  const args: ScriptArg[] = [cap, plain ? "1" : "0"];
  for (let i = from; i < end; i++) {
    const item = items[i];
    if (plain) args.push(item.d);
    else args.push(item.k, String(item.o), item.d);
  }
  return { args, end };
}

function delivered(item: Outgoing): void {
  if (--item.ticket.left === 0) item.ticket.resolve();
}

function failed(item: Outgoing, error: unknown): void {
  item.ticket.left = -1; // settled: later items of the same call do nothing
  item.ticket.reject(error);
}

interface Batch {
  items: Outgoing[];
  done: Deferred;
}

interface Held {
  id: string;
  entry: Entry;
}

interface Waiter {
  resolve(entry: Entry): void;
  reject(error: unknown): void;
}

const text = new TextDecoder();
const str = (b: unknown): string =>
  typeof b === "string" ? b : text.decode(b as Uint8Array);

// A field's name is one ASCII letter: its byte, without decoding a string.
const D = 100; // "d"
const K = 107; // "k"
const O = 111; // "o"

function fieldsToEntry(fields: unknown[], attempt: number): Entry {
  let k = "";
  let o = 0;
  let d: unknown = undefined;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as Uint8Array | string;
    const letter = name.length !== 1
      ? 0
      : typeof name === "string"
      ? name.charCodeAt(0)
      : name[0];
    const value = fields[i + 1];
    if (letter === D) d = decodeValue(value as Uint8Array);
    else if (letter === K) k = str(value);
    else if (letter === O) o = Number(str(value));
  }
  return { k, d, o, a: attempt, w: false, x: undefined };
}

/** The error of a queue whose stream is gone from Redis. */
export function lostQueue(name: string, what: string): Error {
  return new Error(
    `Cannot ${what} queue "${name}": the queue is lost, its stream no longer exists in Redis (the server restarted without its data, or the key was deleted)`,
  );
}

function doneEntry(): Entry {
  return { k: DONE, d: undefined, o: 0, a: 1, w: false, x: undefined };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A queue's transport over a Redis stream (see the module doc). */
export class RedisTransport implements Transport {
  readonly name: string;
  readonly maxsize: number;
  readonly #server: Server;
  readonly maxAttempts: number;
  readonly claimIdle: number;
  readonly consumer: string;
  readonly #key: string;
  readonly #dead: string;
  readonly #cmd: Client;
  #blk: Client | undefined;
  readonly #connectTimeout: number;
  readonly #maxItem: MaxItem;
  #unfinished = Infinity; // as last seen by unfinished()
  #size = 0;
  #closed: Error | undefined;
  #released = false;
  readonly #ending: Ending | undefined;
  // Consumers of a done-aware queue: done for good; worth asking again.
  #done = false;
  #maybeDone = true;
  // Producers: why puts are refused for good (see refuse()).
  #refused: Error | undefined;

  // puts
  #outbox: Outgoing[] = [];
  #outboxBytes = 0;
  // Unbounded queues: the ticket the put() calls of the open batch share.
  #shared: { ticket: Ticket; promise: Promise<void> } | undefined;
  #batch: Deferred | undefined;
  #group: Group | undefined; // the ledger's group of #batch
  #flushScheduled = false;
  #inflight = new Set<Promise<void>>();
  #blocked = new Deque<Batch>();
  #draining = false;
  #lost: Error | undefined;

  // reads
  #inbox = new Deque<Held>();
  #readers: Waiter[] = [];
  #held: string[] = [];
  #fetching = false;
  #prefetch = false;
  #cleared = ""; // the end marker whose barrier was passed
  // Starts small until the reader's pace is known: a first reader must not take everything.
  readonly #pace: Pace;
  #lastBatch = 1; // items of the last read, for the pace of a batch reader
  #lastClaim = 0;
  #cursor = "0-0";
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  // acks
  #ackOut: string[] = [];
  #ackScheduled = false;
  #acking = new Set<Promise<void>>();
  // Finished ids not yet committed or forgone, oldest first, and how many
  // finished ids went through the ledger before them (its counts).
  #finished = new Deque<string>();
  #finishedCount = 0;
  #settledCount = 0;
  #whenCommitted: (() => void)[] = [];
  readonly #ledgerReader: Reader;

  constructor(client: Client, options: RedisTransportOptions, size: number) {
    this.#cmd = client;
    this.#server = options.server;
    this.name = options.name;
    this.maxsize = options.maxsize > 0 ? options.maxsize : Infinity;
    this.#pace = new Pace(TARGET_MS, Math.min(MAX_WINDOW, this.maxsize), 4);
    this.maxAttempts = options.maxAttempts;
    this.claimIdle = options.claimIdle;
    this.#connectTimeout = options.connectTimeout;
    this.#key = options.name;
    this.#dead = `${options.name}:dead`;
    this.#size = size;
    this.#ending = options.ending;
    this.#maxItem = options.maxItem ??
      {
        bytes: DEFAULT_MAX_BULK,
        name: "the Redis server's proto-max-bulk-len",
      };
    // Ends with its claim time: a waiter tells a dead consumer from a live
    // one by it (see UNFINISHED).
    this.consumer = `${Date.now().toString(36)}-${
      Math.random().toString(36).slice(2, 10)
    }.${Math.ceil(this.claimIdle)}`;
    this.#ledgerReader = {
      key: this.#ledgerKey,
      commit: (upTo) => this.#settleFinished(upTo, true),
      // An output was lost: leave the items pending, to be delivered again.
      forgo: (upTo) => this.#settleFinished(upTo, false),
    };
  }

  // Names the stream for the ledger's keyed groups (see ledger.ts).
  get #ledgerKey(): string {
    return `redis ${this.#server.url} ${this.#key}`;
  }

  get size(): number {
    return this.#size;
  }

  get #claimEvery(): number {
    return Math.min(this.claimIdle / 2, LOOK_AGAIN_MS);
  }

  // ---------------------------------------------------------------- puts

  put(entry: Entry): Promise<void> {
    if (entry.k === CLOSE) return this.#closeSignal();
    const refused = this.#refusal();
    if (refused) return Promise.reject(refused);
    let d: Buffer;
    try {
      d = this.#encode(entry);
    } catch (error) {
      return Promise.reject(error);
    }
    let t: Ticket, promise: Promise<void>;
    if (this.maxsize === Infinity) {
      // The batch goes in one script call (below FLUSH_AT items and
      // SCRIPT_BYTES): its items are in Redis together or not at all, so
      // its puts share one promise instead of one each.
      if (this.#outboxBytes + d.byteLength > SCRIPT_BYTES) this.#flush();
      this.#shared ??= ticket(0);
      ({ ticket: t, promise } = this.#shared);
      t.left++;
    } else {
      // Items of a bounded queue go in as room appears: one by one.
      ({ ticket: t, promise } = ticket(1));
    }
    this.#queue({ k: entry.k, o: entry.o, d, ticket: t });
    if (this.#outbox.length >= FLUSH_AT) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      soon(() => this.#flush());
    }
    return promise;
  }

  /**
   * Adds entries in one go: all are encoded and checked first (one that
   * cannot be put rejects the call, and none is put), then sent at once,
   * in one pipeline; resolves once Redis has every one.
   */
  putMany(entries: Entry[]): Promise<void> {
    const refused = this.#refusal();
    if (refused) return Promise.reject(refused);
    if (entries.length === 0) return Promise.resolve();
    const encoded: Buffer[] = [];
    try {
      for (const entry of entries) encoded.push(this.#encode(entry));
    } catch (error) {
      return Promise.reject(error);
    }
    const { ticket: t, promise } = ticket(entries.length);
    entries.forEach((entry, i) =>
      this.#queue({ k: entry.k, o: entry.o, d: encoded[i], ticket: t })
    );
    this.#flush();
    return promise;
  }

  #refusal(): Error | undefined {
    return this.#closed ?? this.#refused;
  }

  // The item as the bytes Redis will store, or an error naming why not.
  #encode(entry: Entry): Buffer {
    let d: Buffer;
    try {
      // A Buffer: the client sends it as bytes (a plain Uint8Array as text).
      const bytes = encodeValue(entry.d);
      d = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      throw new TypeError(
        `Cannot put into queue "${this.name}": ${(error as Error).message}`,
        { cause: error },
      );
    }
    // Above the limit, the server drops the connection mid-pipeline: the
    // put must fail here, by itself, and leave the others alone.
    const kind = Buffer.byteLength(entry.k);
    const size = Math.max(d.byteLength, kind);
    if (size > this.#maxItem.bytes) {
      throw new RangeError(
        `Cannot put into queue "${this.name}": the ${
          size === kind ? "kind" : "item"
        } is ${size} bytes encoded, above ${this.#maxItem.name} of ${this.#maxItem.bytes} bytes`,
      );
    }
    if (entry.x) {
      // The item is a copy in Redis: detach the sender's buffers anyway, so
      // that a transfer means the same as in-process.
      try {
        structuredClone(entry.x, { transfer: entry.x });
      } catch {
        // not transferable here: the copy stands
      }
    }
    return d;
  }

  #queue(item: Outgoing): void {
    this.#outbox.push(item);
    this.#outboxBytes += item.d.byteLength;
    if (!this.#batch) {
      this.#batch = deferred();
      this.#group = ledger.begin(
        this.maxsize === Infinity ? undefined : this.#ledgerKey,
      );
      this.#inflight.add(this.#batch.promise);
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    const items = this.#outbox;
    const done = this.#batch;
    const group = this.#group;
    if (items.length === 0 || !done) return;
    this.#outbox = [];
    this.#outboxBytes = 0;
    this.#shared = undefined;
    this.#batch = undefined;
    this.#group = undefined;
    done.promise.then(() => {
      this.#inflight.delete(done.promise);
      group?.settle();
    }, () => {
      this.#inflight.delete(done.promise);
      group?.settle(true);
    });
    if (this.maxsize === Infinity) {
      // One script call per chunk, all sent at once: one round trip, and
      // far less work per item than an XADD each, on both sides.
      const sends: Promise<void>[] = [];
      for (let from = 0; from < items.length;) {
        const { args, end } = scriptArgs(UNBOUNDED, items, from);
        sends.push(this.#add(items.slice(from, end), args));
        from = end;
      }
      Promise.all(sends).then(() => done.resolve(), (failure) => {
        this.#lost = failure;
        done.reject(failure);
      });
    } else {
      this.#blocked.push({ items, done });
      void this.#drain();
    }
  }

  // Unbounded queues: adds a chunk; its items settle with the reply.
  async #add(chunk: Outgoing[], args: ScriptArg[]): Promise<void> {
    try {
      const [n, len] = await ADD_UP_TO.run(this.#cmd, [this.#key], args) as [
        number,
        number,
      ];
      if (n < 0) throw this.#lostError();
      this.#size = len;
      for (const item of chunk) delivered(item);
    } catch (error) {
      const failure = this.#putError(error);
      for (const item of chunk) failed(item, failure);
      throw failure;
    }
  }

  // Bounded queues: add as far as there is room, oldest batches first; wait
  // and try again for the rest.
  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    let pause = 2;
    try {
      for (
        let batch = this.#blocked.peek();
        batch;
        batch = this.#blocked.peek()
      ) {
        if (this.#closed) throw this.#closed;
        const { args } = scriptArgs(this.maxsize, batch.items, 0);
        let added: number;
        try {
          const [n, len] = await ADD_UP_TO.run(
            this.#cmd,
            [this.#key],
            args,
          ) as [
            number,
            number,
          ];
          if (n < 0) throw this.#lostError();
          added = n;
          this.#size = len;
        } catch (error) {
          this.#blocked.shift();
          const failure = this.#putError(error);
          this.#lost = failure;
          for (const item of batch.items) failed(item, failure);
          batch.done.reject(failure);
          continue;
        }
        for (const item of batch.items.splice(0, added)) delivered(item);
        if (batch.items.length === 0) {
          this.#blocked.shift();
          batch.done.resolve();
          pause = 2;
        } else if (added === 0) {
          await sleep(pause);
          pause = Math.min(pause * 2, 100);
        }
      }
    } catch (error) {
      for (let b = this.#blocked.shift(); b; b = this.#blocked.shift()) {
        for (const item of b.items) failed(item, error);
        b.done.reject(error);
      }
    } finally {
      this.#draining = false;
    }
  }

  // A producer's close: its puts first, then the signal, then the
  // connection (a closed producer is of no further use).
  async #closeSignal(): Promise<void> {
    const close = this.#ending?.close;
    if (!close) {
      throw new TypeError(`Queue "${this.name}" is not a producer endpoint`);
    }
    if (this.#closed) throw this.#closed;
    let failure: unknown;
    try {
      await this.settle();
    } catch (error) {
      failure = error;
    }
    if (!this.#refused) {
      try {
        await close(this.#cmd);
      } catch (error) {
        failure ??= new Error(
          `Cannot close a producer of queue "${this.name}": ${
            (error as Error)?.message
          }`,
          { cause: error },
        );
      }
    }
    failure ??= this.#refused;
    await this.close();
    if (failure) throw failure;
  }

  /** From now on, puts (and the close signal) reject with `error`. */
  refuse(error: Error): void {
    this.#refused ??= error;
  }

  #putError(error: unknown): Error {
    if (error instanceof Error && error.message.startsWith("Cannot put")) {
      return error;
    }
    return new Error(
      `Cannot put into queue "${this.name}": ${(error as Error)?.message}`,
      { cause: error },
    );
  }

  #lostError(): Error {
    return lostQueue(this.name, "put into");
  }

  settle(): Promise<void> {
    this.#flush();
    const waits = [...this.#inflight];
    return Promise.all(waits).then(() => {
      if (this.#lost) {
        const lost = this.#lost;
        this.#lost = undefined;
        throw lost;
      }
    });
  }

  // ---------------------------------------------------------------- gets

  poll(): Entry | undefined {
    if (this.#done) return doneEntry();
    if (this.#closed || this.#readers.length > 0 || !this.#ready()) {
      return undefined;
    }
    this.#pace.took();
    this.#finish();
    // #more() for one item, without its array: the loop of iterMsg().
    const head = this.#inbox.shift()!;
    this.#held.push(head.id);
    this.#lastBatch = 1;
    this.#prefetchIfLow();
    return head.entry;
  }

  getMany(max: number, options: WaitOptions): Promise<Entry[]> {
    if (this.#done) return Promise.resolve([doneEntry()]);
    if (this.#closed) return Promise.reject(this.#closed);
    if (this.#readers.length === 0 && this.#ready()) {
      this.#pace.took(this.#lastBatch);
      this.#finish();
      return Promise.resolve(this.#more([], max));
    }
    return this.get(options).then((first) => this.#more([first], max));
  }

  // Whether the inbox's head may be handed out now: an end marker only past its barrier.
  #ready(): boolean {
    const head = this.#inbox.peek();
    return head !== undefined &&
      (head.entry.k !== END || head.id === this.#cleared);
  }

  // Adds what is ready now to a read, none of it finished yet.
  #more(batch: Entry[], max: number): Entry[] {
    while (
      batch.length < max && this.#ready() &&
      (batch.length === 0 || !endsBatch(batch[batch.length - 1]))
    ) {
      const head = this.#inbox.shift()!;
      this.#held.push(head.id);
      batch.push(head.entry);
    }
    this.#lastBatch = batch.length;
    this.#prefetchIfLow();
    return batch;
  }

  // Reads ahead once half the window is used up.
  #prefetchIfLow(): void {
    if (!this.#done && this.#inbox.length * 2 <= this.#pace.window) {
      this.#prefetch = true;
      void this.#fetch();
    }
  }

  get(options: WaitOptions): Promise<Entry> {
    if (this.#done) return Promise.resolve(doneEntry());
    if (this.#closed) return Promise.reject(this.#closed);
    const entry = this.poll();
    if (entry) return Promise.resolve(entry);
    this.#pace.waits();
    this.#finish();
    return cutShort<Entry>(
      ({ resolve, reject }) => {
        const reader: Waiter = { resolve, reject };
        this.#readers.push(reader);
        this.#pump();
        return () => {
          const at = this.#readers.indexOf(reader);
          if (at >= 0) this.#readers.splice(at, 1);
        };
      },
      options,
      `get() from queue "${this.name}"`,
    );
  }

  // Hands items to waiting readers; an end marker only past its barrier.
  #pump(): void {
    while (this.#readers.length > 0) {
      const head = this.#inbox.peek();
      if (!head) break;
      if (head.entry.k === END && head.id !== this.#cleared) break;
      this.#inbox.shift();
      this.#held.push(head.id);
      this.#readers.shift()!.resolve(head.entry);
    }
    if (this.#readers.length > 0) void this.#fetch();
  }

  #wants(): boolean {
    if (this.#released) return false;
    if (this.#readers.length > 0) return true;
    return this.#prefetch && this.#inbox.length * 2 <= this.#pace.window;
  }

  async #reader(): Promise<Client> {
    this.#blk ??= await connect(this.#server, {
      connectTimeout: this.#connectTimeout,
      // While it is open, this consumer is not dead (see UNFINISHED).
      clientName: this.consumer,
    });
    return this.#blk;
  }

  async #fetch(): Promise<void> {
    if (this.#fetching || this.#closed) return;
    this.#fetching = true;
    try {
      while (!this.#closed && this.#wants()) {
        this.#startHeartbeat();
        const now = Date.now();
        if (now - this.#lastClaim >= this.#claimEvery) {
          this.#lastClaim = now;
          if (await this.#claim() > 0) {
            this.#pump();
            continue;
          }
        }
        const head = this.#inbox.peek();
        if (head && head.entry.k === END && head.id !== this.#cleared) {
          if (this.#readers.length === 0) break;
          await this.#barrier(head.id);
          continue;
        }
        if (head && this.#readers.length > 0) {
          this.#pump(); // a waiting reader and an item: nothing to fetch
          continue;
        }
        if (
          this.#ending?.state && this.#maybeDone && !head &&
          this.#readers.length > 0
        ) {
          const state = await this.#endingState(this.#ending.state);
          if (state === "done") {
            this.#finishDone();
            return;
          }
          // Draining: the end is near, ask again after a short empty read.
          this.#maybeDone = state === "draining";
        }
        const waiting = this.#readers.length > 0;
        const n = Math.max(this.#pace.window - this.#inbox.length, 1);
        const blk = await this.#reader();
        const args: (string | number)[] = ["GROUP", GROUP, this.consumer];
        args.push("COUNT", n);
        if (waiting) {
          // Back in time for the next claim; a done-aware consumer asks
          // again within 50 ms while the queue drains.
          let block = Math.max(10, Math.floor(this.#claimEvery));
          if (this.#ending?.state && this.#maybeDone) {
            block = Math.min(block, 50);
          }
          args.push("BLOCK", block);
        }
        args.push("STREAMS", this.#key, ">");
        const reply = await blk.callBuffer("XREADGROUP", args) as
          | [unknown, [Uint8Array, unknown[] | null][]][]
          | null;
        const got = reply?.[0]?.[1] ?? [];
        for (const [id, fields] of got) {
          if (!fields) continue; // deleted meanwhile
          this.#inbox.push({ id: str(id), entry: fieldsToEntry(fields, 1) });
        }
        if (got.length === 0 && !waiting) this.#prefetch = false;
        if (got.length === 0 && waiting) this.#maybeDone = true;
        if (got.length > 0) this.#refreshSize();
        this.#pump();
      }
    } catch (error) {
      const failure = this.#closed ?? new Error(
        `Cannot get from queue "${this.name}": ${(error as Error)?.message}`,
        { cause: error },
      );
      for (const reader of this.#readers.splice(0)) reader.reject(failure);
    } finally {
      this.#fetching = false;
    }
  }

  // Asked with this handle's reads acknowledged: they count as unfinished
  // until then.
  async #endingState(
    state: (client: Client) => Promise<EndingState>,
  ): Promise<EndingState> {
    await this.#committed();
    this.#flushAcks();
    await Promise.all([...this.#acking]);
    return await state(this.#cmd);
  }

  // Done: every reader, now and later, gets the done signal; the handle
  // holds nothing, so its connections go.
  #finishDone(): void {
    this.#done = true;
    this.#size = 0;
    for (const reader of this.#readers.splice(0)) reader.resolve(doneEntry());
    void this.close().catch(() => {});
  }

  #refreshSize(): void {
    this.#cmd.xlen(this.#key).then((n) => (this.#size = n), () => {});
  }

  // Takes over what stalled consumers held: older than anything unread, so
  // it goes to the front.
  async #claim(): Promise<number> {
    const count = Math.max(this.#pace.window, 16);
    const out = await CLAIM.run(this.#cmd, [this.#key, this.#dead], [
      GROUP,
      this.consumer,
      this.claimIdle,
      this.#cursor,
      count,
      this.maxAttempts,
      END,
    ]) as unknown[];
    this.#cursor = str(out[0]);
    const claimed: Held[] = [];
    for (let i = 1; i < out.length; i += 3) {
      claimed.push({
        id: str(out[i]),
        entry: fieldsToEntry(out[i + 1] as unknown[], Number(out[i + 2])),
      });
    }
    for (let i = claimed.length - 1; i >= 0; i--) {
      this.#inbox.unshift(claimed[i]);
    }
    return claimed.length;
  }

  // An end marker waits for every data item before it to be finished.
  async #barrier(id: string): Promise<void> {
    await this.#committed();
    this.#flushAcks();
    await Promise.all([...this.#acking]);
    const blocked = await BARRIER.run(this.#cmd, [this.#key], [
      GROUP,
      id,
      END,
    ]);
    if (Number(blocked) === 0) {
      this.#cleared = id;
      this.#pump();
      return;
    }
    // Stalled holders' items become claimable after claimIdle.
    await sleep(Math.min(50, this.claimIdle / 4));
    if (Date.now() - this.#lastClaim >= Math.min(250, this.claimIdle / 2)) {
      this.#lastClaim = Date.now();
      await this.#claim();
      this.#pump();
    }
  }

  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined || this.#released) return;
    // Often enough that a consumer descheduled for a while on a busy
    // machine is not taken for dead.
    this.#heartbeat = setInterval(() => {
      HEARTBEAT.run(this.#cmd, [this.#key], [GROUP, this.consumer]).catch(
        () => {},
      );
    }, Math.max(10, Math.floor(this.claimIdle / 5)));
  }

  // ---------------------------------------------------------------- acks

  // Everything returned to the reader so far is finished; it is acked once
  // this thread's earlier puts, to any queue, are accepted (see ledger.ts).
  #finish(): void {
    const held = this.#held;
    if (held.length === 0) return;
    for (const id of held) this.#finished.push(id);
    this.#finishedCount += held.length;
    held.length = 0; // reused: this runs once per item read
    ledger.finished(this.#ledgerReader, this.#finishedCount);
  }

  // Takes the finished ids up to the ledger's count `upTo` off the list,
  // to be acknowledged (`ack`) or left pending.
  #settleFinished(upTo: number, ack: boolean): void {
    const before = this.#ackOut.length;
    for (; this.#settledCount < upTo; this.#settledCount++) {
      const id = this.#finished.shift()!;
      if (ack) this.#ackOut.push(id);
    }
    if (this.#finished.length === 0) {
      for (const wake of this.#whenCommitted.splice(0)) wake();
    }
    if (this.#ackOut.length > before) this.#ackQueued();
  }

  // Resolves once every finished id is committed or forgone.
  #committed(): Promise<void> {
    if (this.#finished.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#whenCommitted.push(resolve));
  }

  // Acks wait for the turn's others, or go once FLUSH_AT are waiting.
  #ackQueued(): void {
    if (this.#ackOut.length >= FLUSH_AT) this.#flushAcks();
    else if (!this.#ackScheduled) {
      this.#ackScheduled = true;
      soon(() => this.#flushAcks());
    }
  }

  #flushAcks(): void {
    this.#ackScheduled = false;
    if (this.#ackOut.length === 0 || this.#closed) return;
    const ids = this.#ackOut;
    this.#ackOut = [];
    // One script call per chunk: each id sent once, for both commands.
    for (let from = 0; from < ids.length; from += ACK_MAX) {
      const chunk = ids.length <= ACK_MAX
        ? ids
        : ids.slice(from, from + ACK_MAX);
      const done = ACK.run(this.#cmd, [this.#key], [GROUP, ...chunk])
        .then(() => {}, () => {
          // Not acknowledged: the items will be delivered again (at least once).
        });
      this.#acking.add(done);
      done.then(() => this.#acking.delete(done));
    }
  }

  // ---------------------------------------------------------------- life

  get usable(): boolean {
    return this.#closed === undefined && !this.#released;
  }

  encode(data: object, transfer: Transferable[] | undefined): EncodedItem {
    if (holdsLive(data)) {
      throw new TypeError(
        `Cannot put into Redis queue "${this.name}": the item holds a live workq object (a Queue, a producer or consumer endpoint), which cannot go through Redis; open that queue in the worker with redisQueue(url, name) instead`,
      );
    }
    // The buffers are detached when the item is sent (see #encode).
    return {
      d: data,
      w: false,
      x: transfer && transfer.length > 0 ? transfer : undefined,
    };
  }

  openProducer(): void {
    throw new TypeError(
      `Cannot make a producer of Redis queue "${this.name}" through IterableQueue: use redisIterableQueue(url, name), whose endpoints work across processes`,
    );
  }

  seal(): void {
    throw new TypeError(
      `Cannot close Redis queue "${this.name}" to new producers through IterableQueue: use redisIterableQueue(url, name), whose endpoints work across processes`,
    );
  }

  handoff(): WireDescriptor {
    throw new TypeError(
      `Cannot hand the Redis queue "${this.name}" to another thread: open it there with redisQueue(url, name)`,
    );
  }

  async release(): Promise<void> {
    if (this.#released || this.#closed) return;
    this.#released = true;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#finish();
    try {
      await this.settle();
    } catch {
      // reported by settle() to whoever asked; the items stay pending
    }
    await this.#committed();
    this.#flushAcks();
    await Promise.all([...this.#acking]);
    // Unread items go back: claimable at once, with their delivery count
    // as it was before this consumer read them.
    const back: Held[] = [];
    for (let h = this.#inbox.shift(); h; h = this.#inbox.shift()) back.push(h);
    if (back.length > 0) {
      const pipe = this.#cmd.pipeline();
      for (const { id, entry } of back) {
        pipe.call("XCLAIM", [
          this.#key,
          GROUP,
          RETURNED,
          0,
          id,
          "IDLE",
          2 ** 31,
          "RETRYCOUNT",
          entry.a - 1,
          "JUSTID",
        ]);
      }
      await pipe.exec().catch(() => {});
    }
    if (this.#blk) {
      await LEAVE.run(this.#cmd, [this.#key], [GROUP, this.consumer]).catch(
        () => {
          // Still in the group: it will look dead to a waiter (see UNFINISHED).
        },
      );
    }
    const error = new Error(`Queue "${this.name}" was released`);
    for (const reader of this.#readers.splice(0)) reader.reject(error);
  }

  /** Releases, then closes the connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.release();
    this.#closed = new Error(`Queue "${this.name}" is closed`);
    this.#blk?.disconnect();
    await this.#cmd.quit().catch(() => this.#cmd.disconnect());
  }

  /**
   * How many entries of the stream are unfinished, retiring the markers of
   * dead workers (see UNFINISHED).
   * @throws {Error} When the queue is lost (its stream or group is gone).
   */
  async unfinished(what: string): Promise<number> {
    let open = ["*"];
    // Asked only near the end (the script's own threshold): the list is
    // only needed then, and may be long.
    if (this.#unfinished <= 1000) {
      try {
        const list = String(
          await this.#cmd.call("CLIENT", ["LIST", "TYPE", "normal"]),
        );
        open = [...list.matchAll(/ name=(\S+)/g)].map((m) => m[1]);
      } catch {
        // Not allowed here (managed servers, ACLs): nobody counts as dead.
      }
    }
    const n = Number(
      await UNFINISHED.run(this.#cmd, [this.#key], [
        GROUP,
        END,
        this.consumer,
        RETURNED,
        Math.ceil(this.claimIdle),
        ...open,
      ]),
    );
    this.#unfinished = n;
    if (n === -1) throw lostQueue(this.name, what);
    if (n === -2) {
      throw new Error(
        `Cannot ${what} queue "${this.name}": the queue is lost, its consumer group "${GROUP}" no longer exists in Redis`,
      );
    }
    return n;
  }

  /** The raw command connection, for helpers of this folder. */
  get client(): Client {
    return this.#cmd;
  }

  /** The name of the dead-letter stream. */
  get deadKey(): string {
    return this.#dead;
  }
}

/**
 * The transport of the thread that created a queue: it holds the broker,
 * reads from it directly, and serves every other thread over its own port.
 * @module
 */
import { Broker, type Consumer, type DeadLetterHandler } from "./broker.ts";
import { progressCell } from "./progress.ts";
import { serve } from "./serve.ts";
import { endsBatch, type Entry } from "../entry.ts";
import { cutShort, type Transport, type WaitOptions } from "../transport.ts";
import {
  type EncodedItem,
  encodeItem,
  type Lifeline,
  type WireDescriptor,
} from "../../wire.ts";
import { soon } from "../../schedule.ts";

const RESOLVED = Promise.resolve();

// This thread's identity, the prefix of the ids of the queues it owns: when
// a parent sees its worker end, it knows at once which queues ended with it.
let thread: string = crypto.randomUUID();

/** Takes the identity the parent gave this worker thread (before any queue is made here). */
export function adoptThreadId(id: string): void {
  thread = id;
}

/** A fresh identity for a worker thread about to start. */
export function newThreadId(): string {
  return crypto.randomUUID();
}

/** The thread that owns the queue with `id`. */
export function ownerOf(id: string): string {
  return id.slice(0, id.indexOf("/"));
}
const YIELD_EVERY = 512;

interface Reader {
  resolve(entry: Entry): void;
  reject(error: unknown): void;
}

/** A queue's transport in the thread that owns it. */
export class OwnerTransport implements Transport {
  readonly #broker: Broker;
  readonly #readers: Reader[] = [];
  readonly #consumer: Consumer;
  // Names the queue across threads: a thread handed it twice keeps one handle.
  readonly #id = `${thread}/${crypto.randomUUID()}`;
  #sinceYield = 0;

  constructor(
    name: string,
    maxsize: number,
    maxAttempts: number,
    onDead: DeadLetterHandler,
  ) {
    this.#broker = new Broker(name, maxsize, maxAttempts, onDead);
    // Reads in this thread are finished when taken: the thread cannot die
    // without the queue, so nothing needs to come back.
    this.#consumer = {
      credit: 0,
      held: undefined,
      acked: 0,
      deliver: (entries) => {
        for (const entry of entries) this.#readers.shift()!.resolve(entry);
      },
    };
    this.#broker.add(this.#consumer);
  }

  get name(): string {
    return this.#broker.name;
  }

  /** The owner's handle lives as long as its thread. */
  get usable(): boolean {
    return true;
  }

  encode(data: object, transfer: Transferable[] | undefined): EncodedItem {
    // Nothing is posted here: move now, as a post elsewhere would.
    return encodeItem(`put into queue "${this.name}"`, data, transfer, true);
  }

  openProducer(): void {
    this.#broker.openProducer();
  }

  seal(): void {
    this.#broker.seal();
  }

  get maxsize(): number {
    return this.#broker.maxsize;
  }

  get size(): number {
    return this.#broker.size;
  }

  // The commit ledger (ledger.ts) never waits for these puts: the entry is
  // in the owner's memory at once, waiting for room if need be, and can
  // only be lost with the queue itself.
  put(entry: Entry): Promise<void> {
    const broker = this.#broker;
    if (broker.put1(entry)) {
      // A loop of awaited puts only yields to microtasks: every so often let
      // the event loop turn, so that consumers' requests for more get in and
      // workers run while the queue fills.
      if (++this.#sinceYield < YIELD_EVERY || !broker.remote) return RESOLVED;
      this.#sinceYield = 0;
      return new Promise<void>((resolve) => soon(resolve));
    }
    return new Promise<void>((resolve) => broker.wait(entry, resolve));
  }

  putMany(entries: Entry[]): Promise<void> {
    // One call into the broker, one promise: not one of each per entry.
    const broker = this.#broker;
    let resolve: (() => void) | undefined;
    const waiting = new Promise<void>((r) => (resolve = r));
    if (!broker.put(entries, resolve)) return waiting;
    this.#sinceYield += entries.length;
    if (this.#sinceYield < YIELD_EVERY || !broker.remote) return RESOLVED;
    this.#sinceYield = 0;
    return new Promise<void>((resolve) => soon(resolve));
  }

  poll(): Entry | undefined {
    return this.#readers.length === 0 ? this.#broker.take() : undefined;
  }

  getMany(max: number, options: WaitOptions): Promise<Entry[]> {
    const first = this.poll();
    if (first) return Promise.resolve(this.#more([first], max));
    return this.get(options).then((entry) => this.#more([entry], max));
  }

  // Reads here are finished when taken (see the constructor): the batch
  // takes what the broker has now.
  #more(batch: Entry[], max: number): Entry[] {
    while (batch.length < max && !endsBatch(batch[batch.length - 1])) {
      const entry = this.poll();
      if (!entry) break;
      batch.push(entry);
    }
    return batch;
  }

  get(options: WaitOptions): Promise<Entry> {
    const entry = this.poll();
    if (entry) return Promise.resolve(entry);
    return cutShort<Entry>(
      ({ resolve, reject }) => {
        const reader: Reader = { resolve, reject };
        this.#readers.push(reader);
        this.#broker.credit(this.#consumer, 1);
        return () => {
          const at = this.#readers.indexOf(reader);
          if (at >= 0) {
            this.#readers.splice(at, 1);
            this.#consumer.credit--;
          }
        };
      },
      options,
      `get() from queue "${this.name}"`,
    );
  }

  handoff(transfer: Transferable[], lifelines: Lifeline[]): WireDescriptor {
    const { port1, port2 } = new MessageChannel();
    const cell = progressCell();
    lifelines.push(serve(this.#broker, port1, cell));
    transfer.push(port2);
    return queueDescriptor(this.#id, this.name, this.maxsize, port2, cell);
  }

  settle(): Promise<void> {
    return Promise.resolve();
  }

  release(): Promise<void> {
    return Promise.resolve();
  }
}

/** What a queue travels as. */
export interface QueueDescriptor extends WireDescriptor {
  readonly "workq:wired": "queue";
  /** The queue's identity, the same in every thread. */
  readonly id: string;
  readonly name: string;
  readonly maxsize: number;
  readonly port: MessagePort;
  /** The client's progress, shared with the owner (see `progress.ts`). */
  readonly cell: Int32Array | undefined;
}

/** Builds the descriptor of a queue reached through `port`. */
export function queueDescriptor(
  id: string,
  name: string,
  maxsize: number,
  port: MessagePort,
  cell: Int32Array | undefined,
): QueueDescriptor {
  return { "workq:wired": "queue", id, name, maxsize, port, cell };
}

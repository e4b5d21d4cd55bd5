// A third engine, in memory, written against the Transport contract alone:
// the queue suite runs over it (tests/queue/memory_engine_test.ts), the
// proof that Queue reaches its engine only through the contract. Items live
// in this thread and never leave it; its reads take part in the commit
// ledger like every engine's.
import { CLOSE, DONE, END } from "../src/msg.ts";
import { ledger, type Reader } from "../src/queue/ledger.ts";
import { endsBatch, type Entry } from "../src/queue/entry.ts";
import { type Queue, queueOver } from "../src/queue/queue.ts";
import {
  cutShort,
  type Transport,
  type WaitOptions,
} from "../src/queue/transport.ts";
import {
  type EncodedItem,
  holdsLive,
  type WireDescriptor,
} from "../src/wire.ts";

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A queue's items in memory, for one thread. */
export class MemoryTransport implements Transport {
  readonly name: string;
  readonly maxsize: number;
  /** How many reads the ledger has committed (finished, their puts accepted). */
  committed = 0;
  #items: Entry[] = [];
  #readers: Waiter<Entry>[] = [];
  #blocked: { entry: Entry; done: () => void }[] = [];
  #producers = 0;
  #closes = 0;
  #sealed = false;
  #taken = 0;
  #released = false;
  readonly #reader: Reader = {
    commit: (upTo) => (this.committed = upTo),
    forgo: () => {},
  };

  constructor(name: string, maxsize: number) {
    this.name = name;
    this.maxsize = maxsize > 0 ? maxsize : Infinity;
  }

  get size(): number {
    return this.#items.length;
  }

  get usable(): boolean {
    return !this.#released;
  }

  encode(data: object, transfer: Transferable[] | undefined): EncodedItem {
    if (holdsLive(data)) {
      throw new TypeError(
        `Cannot put into memory queue "${this.name}": the item holds a live workq object, which this engine does not keep`,
      );
    }
    // A copy, as every engine keeps: later changes by the sender do not reach it.
    const d = structuredClone(data, { transfer });
    return { d, w: false, x: undefined };
  }

  openProducer(): void {
    this.#producers++;
  }

  seal(): void {
    this.#sealed = true;
    this.#serve();
  }

  put(entry: Entry): Promise<void> {
    if (this.#released) {
      return Promise.reject(new Error(`Queue "${this.name}" was released`));
    }
    if (entry.k === CLOSE) {
      this.#closes++;
      this.#serve();
      return Promise.resolve();
    }
    if (this.#blocked.length === 0 && this.#items.length < this.maxsize) {
      this.#items.push(entry);
      this.#serve();
      return Promise.resolve();
    }
    return new Promise((done) => this.#blocked.push({ entry, done }));
  }

  async putMany(entries: Entry[]): Promise<void> {
    for (const entry of entries) await this.put(entry);
  }

  poll(): Entry | undefined {
    if (this.#readers.length > 0) return undefined;
    return this.#take();
  }

  get(options: WaitOptions): Promise<Entry> {
    const entry = this.poll();
    if (entry) return Promise.resolve(entry);
    this.#finish();
    return cutShort<Entry>(
      (waiter) => {
        this.#readers.push(waiter);
        return () => {
          const at = this.#readers.indexOf(waiter);
          if (at >= 0) this.#readers.splice(at, 1);
        };
      },
      options,
      `get() from queue "${this.name}"`,
    );
  }

  async getMany(max: number, options: WaitOptions): Promise<Entry[]> {
    const batch = [await this.get(options)];
    // The rest are not finished by being taken: only the next read finishes them.
    while (batch.length < max && !endsBatch(batch[batch.length - 1])) {
      const entry = this.#take(false);
      if (!entry) break;
      batch.push(entry);
    }
    return batch;
  }

  handoff(): WireDescriptor {
    throw new TypeError(
      `Cannot hand the memory queue "${this.name}" to another thread: its items live in this one`,
    );
  }

  settle(): Promise<void> {
    return Promise.resolve();
  }

  release(): Promise<void> {
    this.#released = true;
    this.#finish();
    const error = new Error(`Queue "${this.name}" was released`);
    for (const reader of this.#readers.splice(0)) reader.reject(error);
    return Promise.resolve();
  }

  // The item read before is finished once the reader asks again.
  #finish(): void {
    ledger.finished(this.#reader, this.#taken);
  }

  #done(): boolean {
    return this.#sealed && this.#closes >= this.#producers &&
      this.#items.length === 0 && this.#blocked.length === 0;
  }

  #take(finish = true): Entry | undefined {
    if (this.#items.length === 0 && this.#done()) {
      return { k: DONE, d: undefined, o: 0, a: 1, w: false, x: undefined };
    }
    const entry = this.#items.shift();
    if (!entry) return undefined;
    if (finish) this.#finish();
    if (entry.k !== END) this.#taken++;
    const room = this.#blocked.shift();
    if (room) {
      this.#items.push(room.entry);
      room.done();
    }
    return entry;
  }

  #serve(): void {
    while (this.#readers.length > 0) {
      const entry = this.#take();
      if (!entry) return;
      this.#readers.shift()!.resolve(entry);
    }
  }
}

/** A queue over a fresh {@linkcode MemoryTransport}, and the transport. */
export function memoryQueue<T>(
  options: { name?: string; maxsize?: number } = {},
): { queue: Queue<T>; transport: MemoryTransport } {
  const transport = new MemoryTransport(
    options.name ?? "memory",
    options.maxsize ?? 0,
  );
  return { queue: queueOver<T>(transport), transport };
}

/**
 * A queue's transport in a thread that was handed the queue: a client of the
 * owner over one MessagePort, with batched puts and credit-based prefetch.
 *
 * Prefetch adapts to the reader: the window (items asked for ahead of use)
 * aims to cover about 2 ms of the reader's own work per item, from 1 for slow
 * tasks (so that a slow worker never sits on items another could run) to
 * 1024 for tiny ones (so that a batch moves hundreds of items per message;
 * 256 for a bounded queue).
 * @module
 */
import { Pace } from "../pace.ts";
import { cloneError } from "../../wire.ts";
import {
  awaitReceived,
  progressCell,
  writeCommitted,
  writeRead,
} from "./progress.ts";
import { Deque } from "../deque.ts";
import { type Group, ledger, type Reader } from "../ledger.ts";
import { ownerOf, type QueueDescriptor, queueDescriptor } from "./owner.ts";
import {
  type ClientMessage,
  creditCap,
  type OwnerMessage,
  pack,
  unpack,
} from "./protocol.ts";
import { endsBatch, type Entry } from "../entry.ts";
import { cutShort, type Transport, type WaitOptions } from "../transport.ts";
import { soon } from "../../schedule.ts";
import { runtime } from "../../runtime/mod.ts";
import {
  type EncodedItem,
  encodeItem,
  type WireDescriptor,
} from "../../wire.ts";

type Port = MessagePort & { ref?: () => void; unref?: () => void };

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

// Unbounded queues: tiny items move a thousand to a message. A bounded
// queue's readers hold at most 256 (and never more than its bound).
const MAX_WINDOW = 1024;
const MAX_BOUNDED_WINDOW = 256;
const TARGET_MS = 2;
const FLUSH_AT = 1024;
const SAMPLE_ABOVE = 32;
const SAMPLE_EVERY = 16;

const open = new Set<ClientTransport>();
const RESOLVED = Promise.resolve();
// Transports of this thread with puts not yet posted; they are flushed
// together. A batch is accepted once its owner says so, not when it is
// posted: a message posted by a thread that is then stopped may never
// arrive (Bun, Deno). The ledger holds back commits until then.
const dirty = new Set<ClientTransport>();
let flushScheduled = false;

/** A batch of puts waiting for its owner's "accepted"; the last of a flush settles its group. */
interface SentBatch {
  group: Group | undefined;
}

/** Every client transport of this thread, for the end of a task. */
export function clientTransports(): Iterable<ClientTransport> {
  return open;
}

/**
 * This thread is ending itself (`process.exit`, `Deno.exit`, `close`): every
 * put still batched is posted now, and the thread blocks, for at most
 * `boundMs`, until each owner has taken its puts in — some runtimes drop the
 * last messages of a thread that stops (Bun, Deno). Returns the names of the
 * queues whose puts could not be confirmed (none where all arrived).
 */
export function flushBeforeExit(boundMs: number): string[] {
  return ClientTransport.flushBeforeExit(boundMs);
}

/**
 * The thread `thread` has ended: the queues it owned are gone. Called by the
 * parent before it reports the end, so that no put made after that resolves
 * for an owner that is no longer there.
 */
export function ownerEnded(thread: string): void {
  for (const transport of [...open]) {
    if (ownerOf(transport.id) === thread) transport.ownerEnded();
  }
}

/** A queue's transport in a thread other than its owner's. */
export class ClientTransport implements Transport {
  readonly id: string;
  readonly name: string;
  readonly maxsize: number;
  #port: Port;
  #size = 0;
  #closed: Error | undefined;
  #refd = true;

  #outbox: Entry[] = [];
  #group: Group | undefined; // the ledger's group of the outbox's puts
  #lost: Error | undefined; // a put that failed after it resolved
  #sent = new Deque<SentBatch>();
  #posted = 0; // batches of puts posted, for flushBeforeExit
  #boundedWaiting = 0;
  // Bounded queues: put credit from the owner, and puts waiting for it.
  #credit = 0;
  readonly #lowCredit: number;
  #asking = false;
  #used = 0; // credit used since the last idle check
  #idleCheck = false;
  #pending = new Deque<{ entry: Entry } & Waiter<void>>();
  #pendingGroup: Group | undefined;

  #inbox = new Deque<Entry>();
  #readers: Waiter<Entry>[] = [];
  #requested = 0;
  #returned = 0;
  #acked = 0;
  #finished = 0;
  #committed = 0;
  readonly #reader: Reader = {
    commit: (upTo) => this.#commitTo(upTo),
    // Counts are cumulative: a later commit covers these (the put's error
    // was reported to whoever made it).
    forgo: () => {},
  };
  // Starts small until the reader's pace is known: a first reader must not take everything.
  readonly #pace: Pace;
  #sampleIn = SAMPLE_EVERY;
  #lastBatch = 1; // items of the last read, for the pace of a batch reader
  #batchWant = 1; // a waiting batch read asks for this many at least
  #asked = 0;
  readonly #cell: Int32Array | undefined;
  readonly #unlisten: () => void;

  #syncs = new Map<number, () => void>();
  #released: (() => void) | undefined;
  #nextSync = 0;

  constructor(descriptor: QueueDescriptor) {
    this.id = descriptor.id;
    this.name = descriptor.name;
    this.maxsize = descriptor.maxsize;
    this.#pace = new Pace(
      TARGET_MS,
      this.maxsize === Infinity
        ? MAX_WINDOW
        : Math.min(MAX_BOUNDED_WINDOW, this.maxsize),
      1,
    );
    this.#lowCredit = Math.floor(creditCap(this.maxsize) / 2);
    this.#port = descriptor.port;
    this.#cell = descriptor.cell;
    this.#unlisten = runtime.listenPort(
      this.#port,
      (data) => this.#receive(data as OwnerMessage),
    );
    this.#port.addEventListener("close", () => {
      this.#fail(
        new Error(
          `Queue "${this.name}" is gone: the thread that owned it has ended`,
        ),
      );
    });
    this.#refresh();
    open.add(this);
  }

  /** The owner's thread ended (see {@linkcode ownerEnded}). */
  ownerEnded(): void {
    this.#fail(
      new Error(
        `Queue "${this.name}" is gone: the thread that owned it has ended`,
      ),
    );
  }

  encode(data: object, transfer: Transferable[] | undefined): EncodedItem {
    return encodeItem(`put into queue "${this.name}"`, data, transfer, false);
  }

  openProducer(): void {
    this.#post({ t: "producer" });
  }

  seal(): void {
    this.#post({ t: "seal" });
  }

  /** Whether this client can still be used (not released, not failed). */
  get usable(): boolean {
    return this.#closed === undefined && this.#released === undefined;
  }

  get size(): number {
    return this.#size;
  }

  put(entry: Entry): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (this.maxsize !== Infinity) {
      // Into a bounded queue a put goes with credit (room the owner set
      // aside) and then resolves as an unbounded one does; without credit
      // it waits here, in order, until credit comes.
      if (this.#credit > 0 && this.#pending.length === 0) {
        this.#credit--;
        this.#used++;
        this.#enqueue(entry);
        this.#ask();
        return RESOLVED;
      }
      this.#pendingGroup ??= ledger.begin();
      const waiting = new Promise<void>((resolve, reject) =>
        this.#pending.push({ entry, resolve, reject })
      );
      this.#boundedWaiting++;
      this.#ask();
      this.#refresh();
      return waiting;
    }
    this.#enqueue(entry);
    return RESOLVED;
  }

  #enqueue(entry: Entry): void {
    this.#group ??= ledger.begin();
    this.#outbox.push(entry);
    dirty.add(this);
    // A transfer goes at once: the sender's buffers are detached when put resolves.
    if (this.#outbox.length >= FLUSH_AT || entry.x) ClientTransport.#flushAll();
    else if (!flushScheduled) {
      flushScheduled = true;
      soon(ClientTransport.#flushAll);
    }
  }

  // Asks for credit once it runs low (half the owner's cap, so that credit
  // arrives before it is used up), and gives back credit left idle for a
  // turn of the event loop: room set aside and unused could hold up other
  // producers.
  #ask(): void {
    if (
      !this.#asking &&
      (this.#pending.length > 0 || this.#credit <= this.#lowCredit)
    ) {
      this.#asking = true;
      this.#post({ t: "want" });
    }
    if (!this.#idleCheck && this.#credit > 0) {
      this.#idleCheck = true;
      soon(() => this.#checkIdle());
    }
  }

  #checkIdle(): void {
    this.#idleCheck = false;
    if (this.#closed || this.#credit === 0) return;
    if (this.#used > 0) {
      this.#used = 0;
      this.#idleCheck = true;
      soon(() => this.#checkIdle());
      return;
    }
    this.#post({ t: "spare", n: this.#credit });
    this.#credit = 0;
  }

  // Credit came: waiting puts go out, oldest first, and resolve.
  #granted(n: number): void {
    this.#asking = false;
    this.#credit += n;
    if (this.#pending.length > 0) {
      // The waiting puts' group is younger than the outbox's: post that first.
      if (this.#outbox.length > 0) this.#flush();
      else this.#group?.settle();
      this.#group = this.#pendingGroup;
      this.#pendingGroup = undefined;
      while (this.#credit > 0 && this.#pending.length > 0) {
        const put = this.#pending.shift()!;
        this.#credit--;
        this.#used++;
        this.#boundedWaiting--;
        this.#enqueue(put.entry);
        put.resolve();
      }
      if (this.#pending.length > 0) this.#pendingGroup = ledger.begin();
    }
    this.#ask();
  }

  putMany(entries: Entry[]): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (this.maxsize === Infinity) {
      for (const entry of entries) this.#enqueue(entry);
      return RESOLVED;
    }
    // Bounded: the last put resolves last (credit goes out in order), and
    // rejects with the others when the queue fails: theirs are not reported
    // twice, nor left unhandled.
    let last: Promise<void> = RESOLVED;
    for (const entry of entries) {
      if (last !== RESOLVED) last.catch(() => {});
      last = this.put(entry);
    }
    return last;
  }

  poll(): Entry | undefined {
    if (this.#closed || this.#readers.length > 0 || this.#inbox.length === 0) {
      return undefined;
    }
    // Timing every item costs more than tiny items do: sample once the
    // window is large.
    if (this.#pace.window < SAMPLE_ABOVE || --this.#sampleIn <= 0) {
      const items = this.#pace.window < SAMPLE_ABOVE ? 1 : SAMPLE_EVERY;
      this.#pace.took(items);
      this.#sampleIn = SAMPLE_EVERY;
    }
    const entry = this.#inbox.shift()!;
    this.#lastBatch = 1;
    this.#asked++;
    this.#returned++;
    this.#mark();
    this.#topUp();
    return entry;
  }

  getMany(max: number, options: WaitOptions): Promise<Entry[]> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (this.#readers.length === 0 && this.#inbox.length > 0) {
      // What was read before is finished; this batch, at the next read.
      this.#pace.took(this.#lastBatch);
      this.#finished = this.#returned;
      ledger.finished(this.#reader, this.#finished);
      return Promise.resolve(this.#more([], max));
    }
    // A waiting batch read asks for its batch in one go, not one item.
    this.#batchWant = Math.min(max, this.#pace.max);
    return this.get(options).then(
      (first) => this.#more([first], max),
      (error) => {
        this.#batchWant = 1;
        throw error;
      },
    );
  }

  // Adds what the inbox holds now to a batch read, none of it finished yet.
  #more(batch: Entry[], max: number): Entry[] {
    const inbox = this.#inbox;
    const at = batch.length;
    while (
      batch.length < max && inbox.length > 0 &&
      (batch.length === 0 || !endsBatch(batch[batch.length - 1]))
    ) batch.push(inbox.shift()!);
    this.#batchWant = 1;
    this.#returned += batch.length - at;
    this.#asked = this.#returned;
    this.#lastBatch = batch.length;
    writeRead(this.#cell, this.#finished, this.#returned);
    this.#topUp();
    return batch;
  }

  // Shares how far the reader got (see progress.ts).
  #mark(): void {
    this.#finished = Math.max(0, Math.min(this.#returned, this.#asked - 1));
    writeRead(this.#cell, this.#finished, this.#returned);
    ledger.finished(this.#reader, this.#finished);
  }

  // Finished items whose outputs have all been accepted (see ledger.ts):
  // only these are acknowledged, so an item is never dropped while its
  // result could be lost.
  #commitTo(finished: number): void {
    if (finished <= this.#committed) return;
    this.#committed = finished;
    writeCommitted(this.#cell, finished);
    // A blocked reader's finished items may be what an end marker waits for.
    if (this.#readers.length > 0) this.#topUp();
  }

  static #flushAll(): void {
    flushScheduled = false;
    if (dirty.size === 0) return;
    for (const transport of dirty) transport.#flush();
    dirty.clear();
  }

  static flushBeforeExit(boundMs: number): string[] {
    ClientTransport.#flushAll();
    const deadline = performance.now() + boundMs;
    const unconfirmed: string[] = [];
    for (const transport of open) {
      if (transport.#posted === 0) continue;
      if (!awaitReceived(transport.#cell, transport.#posted, deadline)) {
        unconfirmed.push(transport.name);
      }
    }
    return unconfirmed;
  }

  get(options: WaitOptions): Promise<Entry> {
    if (this.#closed) return Promise.reject(this.#closed);
    const entry = this.poll();
    if (entry) return Promise.resolve(entry);
    this.#pace.waits();
    this.#asked++;
    this.#mark();
    return cutShort<Entry>(
      ({ resolve, reject }) => {
        const reader = { resolve, reject };
        this.#readers.push(reader);
        this.#topUp();
        this.#refresh();
        return () => {
          const at = this.#readers.indexOf(reader);
          if (at >= 0) this.#readers.splice(at, 1);
          this.#refresh();
        };
      },
      options,
      `get() from queue "${this.name}"`,
    );
  }

  handoff(transfer: Transferable[]): WireDescriptor {
    const { port1, port2 } = new MessageChannel();
    const cell = progressCell();
    this.#post({ t: "attach", port: port1, cell }, [port1]);
    transfer.push(port2);
    return queueDescriptor(this.id, this.name, this.maxsize, port2, cell);
  }

  settle(): Promise<void> {
    ClientTransport.#flushAll();
    if (this.#lost) {
      const lost = this.#lost;
      this.#lost = undefined;
      return Promise.reject(lost);
    }
    if (this.#closed) return Promise.resolve();
    const id = this.#nextSync++;
    return new Promise<void>((resolve) => {
      this.#syncs.set(id, resolve);
      this.#post({ t: "sync", id });
      this.#refresh();
    });
  }

  release(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    ClientTransport.#flushAll();
    this.#post({ t: "release", a: this.#returned - this.#acked });
    this.#acked = this.#returned;
    return new Promise<void>((resolve) => {
      this.#released = resolve;
      this.#refresh();
    });
  }

  #topUp(): void {
    const have = this.#inbox.length + this.#requested;
    const unacked = this.#committed - this.#acked;
    const need = this.#readers.length > 0
      ? Math.max(this.#pace.window, this.#readers.length, this.#batchWant)
      : this.#pace.window;
    let n = 0;
    if (have * 2 <= need) n = need - have;
    else if (this.#readers.length > 0 && have === this.#inbox.length) {
      n = this.#readers.length;
    }
    // A blocked reader must report what it finished: an end marker may be
    // waiting for exactly that.
    if (n > 0 || (this.#readers.length > 0 && unacked > 0)) {
      this.#requested += n;
      this.#acked = this.#committed;
      this.#post({ t: "pull", n, a: unacked });
    }
  }

  #receive(message: OwnerMessage): void {
    this.#size = message.z;
    switch (message.t) {
      case "items": {
        const entries = unpack(message.b);
        this.#requested -= entries.length;
        for (const entry of entries) {
          const reader = this.#readers.shift();
          if (reader) {
            this.#returned++;
            this.#pace.starts();
            this.#mark();
            reader.resolve(entry);
          } else this.#inbox.push(entry);
        }
        if (this.#readers.length > 0) this.#topUp();
        break;
      }
      case "accepted":
        for (let i = 0; i < message.n; i++) this.#sent.shift()?.group?.settle();
        break;
      case "room":
        this.#granted(message.n);
        break;
      case "synced":
        this.#syncs.get(message.id)?.();
        this.#syncs.delete(message.id);
        break;
      case "gone":
        this.#fail(
          new Error(
            `Queue "${this.name}" is gone: the thread that owned it has ended`,
          ),
        );
        return;
      case "released":
        this.#fail(
          new Error(`Queue "${this.name}" was released by this thread`),
        );
        return;
    }
    this.#refresh();
  }

  #flush(): void {
    const group = this.#group;
    this.#group = undefined;
    if (this.#outbox.length === 0) {
      group?.settle();
      return;
    }
    const entries = this.#outbox;
    this.#outbox = [];
    try {
      this.#send(entries, group);
    } catch {
      // A value the put-time check could not see through (a host object):
      // each entry goes alone, and only the ones that cannot be cloned fail.
      // Replies come in order: the last batch sent settles the group.
      let last: SentBatch | undefined;
      for (let i = 0; i < entries.length; i++) {
        try {
          last = this.#send([entries[i]]);
        } catch (error) {
          const failure = cloneError(
            `put into queue "${this.name}"`,
            entries[i].d,
            error,
          );
          this.#lost = failure;
          // Its credit was never used: the owner still holds its room.
          if (this.maxsize !== Infinity) this.#credit++;
        }
      }
      if (last) last.group = group;
      else group?.settle();
    }
    this.#refresh();
  }

  #send(entries: Entry[], group?: Group): SentBatch {
    const transfer: Transferable[] = [];
    this.#post({ t: "put", b: pack(entries, transfer) }, transfer);
    this.#posted++;
    const batch: SentBatch = { group };
    this.#sent.push(batch);
    return batch;
  }

  #post(message: ClientMessage, transfer: Transferable[] = []): void {
    if (this.#closed) throw this.#closed;
    this.#port.postMessage(message, transfer);
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    open.delete(this);
    for (const reader of this.#readers.splice(0)) reader.reject(error);
    // The queue is gone, and with it whatever those puts were for: let the
    // thread's other queues go on committing.
    for (let batch = this.#sent.shift(); batch; batch = this.#sent.shift()) {
      batch.group?.settle();
    }
    this.#group?.settle();
    this.#group = undefined;
    for (let put = this.#pending.shift(); put; put = this.#pending.shift()) {
      put.reject(error);
    }
    this.#pendingGroup?.settle();
    this.#pendingGroup = undefined;
    this.#credit = 0;
    this.#boundedWaiting = 0;
    for (const resolve of this.#syncs.values()) resolve();
    this.#syncs.clear();
    this.#released?.();
    this.#unlisten();
    this.#port.close();
  }

  // Keep the thread alive only while something here waits on the owner.
  #refresh(): void {
    const busy = !this.#closed &&
      (this.#readers.length > 0 || this.#boundedWaiting > 0 ||
        this.#syncs.size > 0 ||
        this.#released !== undefined);
    if (busy === this.#refd) return;
    this.#refd = busy;
    if (busy) this.#port.ref?.();
    else this.#port.unref?.();
  }
}

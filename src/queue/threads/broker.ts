/**
 * The owner's side of a queue: the items, who may receive how many (credit),
 * what each consumer holds and has not finished, and the end-marker rule.
 *
 * Rules that later features rely on:
 * - A consumer receives at most its credit; what it receives is held until
 *   it acknowledges it (finished) or gives it back (release).
 * - A consumer that dies gives back what it held (see `progress.ts` for how
 *   the owner knows how far it got): finished and committed items are done;
 *   finished items whose outputs may be lost, and the item in progress, go
 *   back to the front with `attempt` raised; unread items go back as they
 *   were. The item in progress gets a strike: at `maxAttempts` strikes it
 *   is set aside as a dead letter instead, and the queue goes on.
 * - An end marker at the head is handed out only when no data item is held
 *   anywhere: a marker is never delivered while items before it could still
 *   come back, so no item is stranded behind it.
 * - A bounded queue grants producers in other threads put credit ahead of
 *   use: room set aside for them, so that a put with credit needs no round
 *   trip (up to `creditCap` each). Items plus credit outstanding never
 *   exceed `maxsize`; credit a producer did not use comes back when it gives
 *   it back or goes away.
 * @module
 */
import { CLOSE, DONE, END } from "../../msg.ts";
import { soon } from "../../schedule.ts";
import { Deque } from "../deque.ts";
import type { Entry } from "../entry.ts";
import type { Progress } from "./progress.ts";
import { creditCap } from "./protocol.ts";

function isData(entry: Entry): boolean {
  return entry.k !== END && entry.k !== DONE;
}

function doneEntry(): Entry {
  return { k: DONE, d: undefined, o: 0, a: 1, w: false, x: undefined };
}

/** Something that receives items from the broker. */
export interface Consumer {
  /** How many more items it may be sent. */
  credit: number;
  /** Items sent and not finished, oldest first; `undefined` when not tracked. */
  readonly held: Deque<Entry> | undefined;
  /** How many items it has acknowledged in all (the index of `held`'s first). */
  acked: number;
  /** Hands it a batch (never empty, never more than its credit). */
  deliver(entries: Entry[]): void;
}

/** A producer in another thread that puts into a bounded queue with credit. */
export interface Producer {
  /** Credit granted and not yet used or given back. */
  outstanding: number;
  /** Hands it `n` more credit. */
  grant(n: number): void;
}

interface BlockedPut {
  entries: Entry[];
  index: number;
  done: (() => void) | undefined;
}

/** How a consumer died, for redelivery and dead letters. */
export interface Death {
  error: Error;
  /** The item in progress caused the death: set it aside at once. */
  culprit?: boolean;
  progress: Progress | undefined;
}

/** An item set aside after killing `maxAttempts` workers. */
export type DeadLetterHandler = (entry: Entry, error: Error) => void;

// A batch this large goes out at once instead of waiting for the next turn.
const EAGER = 64;

/** The state of one queue, kept by the thread that created it. */
export class Broker {
  readonly name: string;
  readonly maxsize: number;
  #fifo = new Deque<Entry>();
  #consumers: Consumer[] = [];
  #next = 0;
  #held = 0;
  #blocked = new Deque<BlockedPut>();
  #scheduled = false;
  #producers = 0;
  #closed = 0;
  #sealed = false;
  #remote = 0;
  #reserved = 0; // credit outstanding: room set aside for producers
  #wanting = new Set<Producer>();
  #granting = false;
  /** The most credit one producer holds at a time. */
  readonly creditCap: number;

  readonly maxAttempts: number;
  readonly #onDead: DeadLetterHandler;

  constructor(
    name: string,
    maxsize: number,
    maxAttempts: number,
    onDead: DeadLetterHandler,
  ) {
    this.name = name;
    this.maxsize = maxsize > 0 ? maxsize : Infinity;
    this.creditCap = creditCap(this.maxsize);
    this.maxAttempts = maxAttempts;
    this.#onDead = onDead;
  }

  /** Items waiting in the queue (not counting those held by consumers). */
  get size(): number {
    return this.#fifo.length;
  }

  /**
   * Appends entries in order, as far as there is room; the rest wait, in
   * order, behind earlier blocked puts. Returns `true` when all are in now;
   * otherwise `done` is called once they are.
   */
  put(entries: Entry[], done?: () => void): boolean {
    let i = 0;
    if (this.#blocked.length === 0) {
      const room = this.#room();
      const n = Math.min(room, entries.length);
      for (; i < n; i++) this.#accept(entries[i]);
    }
    if (i < entries.length) this.#blocked.push({ entries, index: i, done });
    this.#schedule();
    return i === entries.length;
  }

  /** Appends one entry if there is room and nobody waits before it. */
  put1(entry: Entry): boolean {
    if (this.#blocked.length > 0 || this.#room() <= 0) return false;
    this.#accept(entry);
    this.#schedule();
    return true;
  }

  /**
   * Appends entries put with `producer`'s credit: their room was set aside,
   * so they go in at once. Entries beyond its credit are put as by
   * {@linkcode Broker.put}; returns `true` when all are in now.
   */
  putCredited(
    entries: Entry[],
    producer: Producer,
    done?: () => void,
  ): boolean {
    const n = Math.min(entries.length, producer.outstanding);
    producer.outstanding -= n;
    this.#reserved -= n;
    for (let i = 0; i < n; i++) this.#accept(entries[i]);
    this.#scheduleGrants();
    if (n === entries.length) {
      this.#schedule();
      return true;
    }
    return this.put(entries.slice(n), done);
  }

  /** `producer` asks for credit: granted as room allows, up to {@linkcode Broker.creditCap}. */
  want(producer: Producer): void {
    this.#wanting.add(producer);
    this.#scheduleGrants();
  }

  /** `producer` gives back `n` credit it has not used (`Infinity`: all, it is gone). */
  spare(producer: Producer, n: number): void {
    const back = Math.min(n, producer.outstanding);
    producer.outstanding -= back;
    this.#reserved -= back;
    if (n === Infinity) this.#wanting.delete(producer);
    this.#schedule();
  }

  // Room not taken by items or set aside as credit.
  #room(): number {
    return this.maxsize - this.#fifo.length - this.#reserved;
  }

  // Grants wait for the end of the current burst: a reader draining a full
  // queue item by item would otherwise send a grant per item.
  #scheduleGrants(): void {
    if (this.#granting || this.#wanting.size === 0) return;
    this.#granting = true;
    soon(() => {
      this.#granting = false;
      this.#grant();
    });
  }

  #grant(): void {
    for (const producer of this.#wanting) {
      if (this.#blocked.length > 0) return; // earlier puts come first
      const n = Math.min(this.#room(), this.creditCap - producer.outstanding);
      // At its cap, it waits for its puts to arrive (see putCredited).
      if (n <= 0) continue;
      producer.outstanding += n;
      this.#reserved += n;
      this.#wanting.delete(producer);
      producer.grant(n);
    }
  }

  /** Appends one entry when there is room, behind earlier blocked puts; then calls `done`. */
  wait(entry: Entry, done: () => void): void {
    this.#blocked.push({ entries: [entry], index: 0, done });
    this.#schedule();
  }

  /** Whether any consumer is in another thread (tracked). */
  get remote(): boolean {
    return this.#remote > 0;
  }

  /** Takes the next deliverable entry for a thread-local reader, if any. */
  take(): Entry | undefined {
    if (this.#fifo.length === 0 && this.#isDone()) return doneEntry();
    if (this.#fifo.length === 0 || !this.#deliverable(this.#fifo.peek()!)) {
      return undefined;
    }
    const entry = this.#fifo.shift()!;
    if (this.#admit()) this.#schedule();
    return entry;
  }

  /** Starts sending to `consumer`. */
  add(consumer: Consumer): void {
    this.#consumers.push(consumer);
    if (consumer.held) this.#remote++;
  }

  /** Gives `consumer` `n` more credit. */
  credit(consumer: Consumer, n: number): void {
    consumer.credit += n;
    this.#schedule();
  }

  /** The first `n` entries held by `consumer` are finished. */
  ack(consumer: Consumer, n: number): void {
    const held = consumer.held;
    if (!held || n <= 0) return;
    let data = 0;
    for (let i = 0; i < n && held.length > 0; i++) {
      if (isData(held.shift()!)) data++;
      consumer.acked++;
    }
    this.#held -= data;
    // The last held item finishing may free an end marker.
    if (this.#held === 0) this.#schedule();
  }

  /**
   * Stops sending to `consumer`. After a clean release it held only unread
   * items, which go back as they were; after a `death`, see the module doc.
   */
  remove(consumer: Consumer, death?: Death): void {
    const at = this.#consumers.indexOf(consumer);
    if (at < 0) return;
    this.#consumers.splice(at, 1);
    consumer.credit = 0;
    const held = consumer.held;
    if (!held) return;
    this.#remote--;
    const back: Entry[] = [];
    const p = death?.progress;
    for (
      let index = consumer.acked, e = held.shift();
      e !== undefined;
      index++, e = held.shift()
    ) {
      if (e.k === DONE) continue; // a done signal is made afresh for whoever asks
      if (isData(e)) this.#held--;
      if (!death || e.k === END) {
        back.push(e);
        continue;
      }
      // Without progress (no SharedArrayBuffer) the first held item is taken
      // as the one in progress and the rest as possibly started.
      const committed = p ? index < p.committed : false;
      const started = p ? index < p.returned : true;
      const inProgress = p
        ? index >= p.finished && index < p.returned
        : index === consumer.acked;
      if (committed) continue;
      if (!started) {
        back.push(e);
        continue;
      }
      // A worker stopped because of the item itself (a per-item timeout)
      // must not pass it on to kill another.
      const strikes = inProgress ? (death.culprit ? this.maxAttempts : 1) : 0;
      const s = (e.s ?? 0) + strikes;
      // A dead letter says how many deliveries it had; an item sent again,
      // which one this is.
      if (s >= this.maxAttempts) this.#onDead({ ...e, s }, death.error);
      else back.push({ ...e, a: e.a + 1, s });
    }
    for (let i = back.length - 1; i >= 0; i--) this.#fifo.unshift(back[i]);
    this.#schedule();
  }

  // Puts a close signal's count, or an item in the queue.
  #accept(entry: Entry): void {
    if (entry.k === CLOSE) {
      this.#closed++;
      if (this.#isDone()) this.#schedule();
    } else this.#fifo.push(entry);
  }

  /** A producer endpoint was made (see `iterable_queue.ts`). */
  openProducer(): void {
    this.#producers++;
  }

  /** No new producer will come: once all have closed and nothing is left, the queue is done. */
  seal(): void {
    this.#sealed = true;
    this.#schedule();
  }

  #isDone(): boolean {
    return this.#sealed && this.#closed >= this.#producers &&
      this.#fifo.length === 0 && this.#held === 0 &&
      this.#blocked.length === 0;
  }

  #deliverable(head: Entry): boolean {
    return head.k !== END || this.#held === 0;
  }

  #schedule(): void {
    if (this.#fifo.length >= EAGER) {
      this.#dispatch();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      soon(() => {
        this.#scheduled = false;
        this.#dispatch();
      });
    }
  }

  #dispatch(): void {
    do this.#send(); while (this.#admit());
  }

  #send(): void {
    const consumers = this.#consumers;
    if (this.#fifo.length === 0 && this.#isDone()) {
      // Every request from now on is answered "done", one signal per credit.
      for (const consumer of consumers) {
        if (consumer.credit <= 0) continue;
        const signals = Array.from({ length: consumer.credit }, doneEntry);
        consumer.credit = 0;
        if (consumer.held) { for (const e of signals) consumer.held.push(e); }
        consumer.deliver(signals);
      }
      return;
    }
    let idle = 0;
    while (
      this.#fifo.length > 0 && consumers.length > 0 && idle < consumers.length
    ) {
      if (this.#next >= consumers.length) this.#next = 0;
      const consumer = consumers[this.#next++];
      if (consumer.credit <= 0) {
        idle++;
        continue;
      }
      idle = 0;
      const batch: Entry[] = [];
      const held = consumer.held;
      while (batch.length < consumer.credit && this.#fifo.length > 0) {
        const head = this.#fifo.peek()!;
        if (!this.#deliverable(head)) break;
        this.#fifo.shift();
        batch.push(head);
        if (head.k === END) break;
        if (held) this.#held++;
      }
      if (batch.length === 0) break;
      consumer.credit -= batch.length;
      if (held) { for (const e of batch) held.push(e); }
      consumer.deliver(batch);
    }
  }

  // Room has opened: move blocked puts in, oldest first. Returns whether any moved.
  #admit(): boolean {
    let moved = false;
    while (this.#blocked.length > 0 && this.#room() > 0) {
      const put = this.#blocked.peek()!;
      while (put.index < put.entries.length && this.#room() > 0) {
        this.#accept(put.entries[put.index++]);
        moved = true;
      }
      if (put.index < put.entries.length) break;
      this.#blocked.shift();
      put.done?.();
    }
    if (this.#room() > 0) this.#scheduleGrants();
    return moved;
  }
}

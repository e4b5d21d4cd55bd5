/**
 * The one commit ledger of a thread, shared by every engine: an item read
 * here is committed (acknowledged to its queue, never delivered again) only
 * once every put this thread made before the item was finished has been
 * accepted by its engine — whatever the engines of the read and the puts.
 * A thread that stops between a put and its acceptance (killed, or its last
 * messages dropped) then loses nothing: what it read comes back.
 *
 * The thread cannot know which read caused which put, so "made before the
 * read was finished" stands for "caused by it"; that errs on the side of
 * delivering again.
 *
 * Engines speak to it in two words:
 * - {@linkcode Ledger.begin} when a group of puts starts (an engine's batch,
 *   opened by its first put, so that a loop of puts costs nothing here);
 *   the group is settled once the engine accepted it, refused it with an
 *   error its caller sees, or lost it (the output may be gone: the reads
 *   finished while it was open are forgone, left to be delivered again);
 * - {@linkcode Ledger.finished} when a reader's items up to a count are
 *   finished: the reader's `commit` is called with that count at once when
 *   no group is open (the hot path), otherwise once the groups opened
 *   before are settled, in order.
 *
 * One exemption: a group given a `key` does not hold back a reader with the
 * same key. A bounded Redis queue counts unacknowledged items against its
 * bound, so a put waiting for room in the very queue being read would wait
 * for the acknowledgements it holds back.
 * @module
 */

/** The side of an engine that reads: told when its finished items are committed. */
export interface Reader {
  /** The queue it reads, for keyed groups (see the module doc); none when undefined. */
  readonly key?: string | undefined;
  /** Items up to `upTo` (the reader's own count, never lower than before) are committed. */
  commit(upTo: number): void;
  /**
   * Items up to `upTo` are not committed: a put made before they were
   * finished was lost. They stay unacknowledged, to be delivered again.
   */
  forgo(upTo: number): void;
}

/** A group of puts, from {@linkcode Ledger.begin}. */
export interface Group {
  /**
   * The engine accepted the puts, or refused them with an error its caller
   * sees (`lost` false); or they may be gone without a word (`lost` true).
   * Later calls do nothing.
   */
  settle(lost?: boolean): void;
}

class Puts implements Group {
  settled = false;
  lost = false;
  readonly ledger: Ledger;
  readonly key: string | undefined;

  constructor(ledger: Ledger, key: string | undefined) {
    this.ledger = ledger;
    this.key = key;
  }

  settle(lost = false): void {
    if (this.settled) return;
    this.settled = true;
    this.lost = lost;
    settled(this.ledger, this);
  }
}

// How far readers had finished between two groups. The first reader has
// fields of its own: the hot path (one reader finishing item after item
// while its thread's puts are in flight) writes a number, no map.
class Marks {
  reader: Reader | undefined;
  upTo = 0;
  others: Map<Reader, number> | undefined;
  // The reads here were finished while a group before them, now lost, was open.
  lost = false;

  constructor(reader: Reader, upTo: number) {
    this.reader = reader;
    this.upTo = upTo;
  }

  set(reader: Reader, upTo: number): void {
    if (this.reader === reader) this.upTo = upTo;
    else (this.others ??= new Map()).set(reader, upTo);
  }

  get empty(): boolean {
    return this.reader === undefined && !this.others?.size;
  }
}

type Step = Puts | Marks;

let settled: (ledger: Ledger, group: Puts) => void;

/** A ledger: puts in flight and the finished reads waiting for them (see the module doc). */
export class Ledger {
  #steps: Step[] = [];
  #head = 0;
  #open = 0;
  // Open groups without a key, and open keyed groups by key.
  #plain = 0;
  #keyed = new Map<string, number>();

  /** How many groups are open (not settled). */
  get open(): number {
    return this.#open;
  }

  /**
   * Starts a group of puts: reads finished from now on wait for it.
   * @param key A reader with this key does not wait for the group.
   * @returns The group, to settle once the engine has answered.
   */
  begin(key?: string): Group {
    const group = new Puts(this, key);
    this.#open++;
    if (key === undefined) this.#plain++;
    else this.#keyed.set(key, (this.#keyed.get(key) ?? 0) + 1);
    this.#steps.push(group);
    return group;
  }

  /**
   * `reader`'s items up to `upTo` are finished: committed at once when no
   * group is open, else once the groups opened before are settled.
   */
  finished(reader: Reader, upTo: number): void {
    // Nothing open holds it back: no earlier read of this reader waits
    // either (each settle frees every read it can), so the order is kept.
    if (
      this.#open === 0 ||
      (this.#plain === 0 && this.#keyed.size === 1 &&
        this.#keyed.has(reader.key!))
    ) {
      reader.commit(upTo);
      return;
    }
    const tail = this.#steps[this.#steps.length - 1];
    if (tail instanceof Marks && !tail.lost) tail.set(reader, upTo);
    else this.#steps.push(new Marks(reader, upTo));
  }

  static {
    settled = (ledger, group) => ledger.#settled(group);
  }

  #settled(group: Puts): void {
    this.#open--;
    const key = group.key;
    if (key === undefined) this.#plain--;
    else {
      const left = this.#keyed.get(key)! - 1;
      if (left === 0) this.#keyed.delete(key);
      else this.#keyed.set(key, left);
    }
    const steps = this.#steps;
    if (group.lost) {
      for (
        let i = steps.indexOf(group, this.#head) + 1;
        i < steps.length;
        i++
      ) {
        const step = steps[i];
        if (step instanceof Marks) step.lost = true;
      }
    }
    // Keys of the open keyed groups passed so far: they hold back every
    // reader but their own.
    const keys: string[] = [];
    for (let i = this.#head; i < steps.length; i++) {
      const step = steps[i];
      if (step instanceof Puts) {
        if (step.settled) continue;
        if (step.key === undefined) break;
        keys.push(step.key);
        continue;
      }
      const free = (reader: Reader) => !keys.some((key) => key !== reader.key);
      const first = step.reader;
      if (first && free(first)) {
        step.reader = undefined;
        tell(first, step.upTo, step.lost);
      }
      if (step.others) {
        for (const [reader, upTo] of step.others) {
          if (!free(reader)) continue;
          step.others.delete(reader);
          tell(reader, upTo, step.lost);
        }
      }
    }
    let head = this.#head;
    while (head < steps.length) {
      const step = steps[head];
      if (step instanceof Puts ? !step.settled : !step.empty) break;
      head++;
    }
    if (head === steps.length) {
      this.#steps = [];
      this.#head = 0;
    } else if (head > 1024) {
      this.#steps = steps.slice(head);
      this.#head = 0;
    } else this.#head = head;
  }
}

function tell(reader: Reader, upTo: number, lost: boolean): void {
  if (lost) reader.forgo(upTo);
  else reader.commit(upTo);
}

/** This thread's ledger: every engine's puts and reads go through it. */
export const ledger: Ledger = new Ledger();

/**
 * How far ahead a reader asks for items: enough to cover `targetMs` of its
 * own work per item, from 1 (slow tasks: a slow reader never sits on items
 * another could run) to `max` (tiny tasks: many items per message). Shared
 * by every transport that prefetches.
 * @module
 */

/** A reader's prefetch window, learnt from its time per item. */
export class Pace {
  /** Items to have asked for ahead of use. */
  window: number;
  /** The largest window. */
  readonly max: number;
  readonly #targetMs: number;
  #avg = -1;
  #since = -1; // when the reader's own time started; -1 while it waits

  /**
   * @param targetMs The reader's work to cover, in milliseconds.
   * @param max The largest window (also bounded by a queue's maxsize).
   * @param initial The window before the reader's pace is known.
   */
  constructor(targetMs: number, max: number, initial: number) {
    this.#targetMs = targetMs;
    this.max = max;
    this.window = initial;
  }

  /**
   * The reader takes an item now: the time since its last one was its own
   * work on `items` items.
   */
  took(items = 1): void {
    const now = performance.now();
    if (this.#since >= 0) this.#learn((now - this.#since) / items);
    this.#since = now;
  }

  /** The reader's own time starts now: an item reached it while it waited. */
  starts(): void {
    this.#since = performance.now();
  }

  /** The reader waits: its work so far counts, the wait does not. */
  waits(): void {
    if (this.#since >= 0) this.#learn(performance.now() - this.#since);
    this.#since = -1;
  }

  #learn(ms: number): void {
    this.#avg = this.#avg < 0 ? ms : this.#avg * 0.75 + ms * 0.25;
    const window = this.#avg > 10 * this.#targetMs
      ? 1
      : Math.ceil(this.#targetMs / Math.max(this.#avg, 0.001)) + 1;
    this.window = Math.max(1, Math.min(window, this.max));
  }
}

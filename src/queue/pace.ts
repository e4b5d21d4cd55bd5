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
  readonly #targetMs: number;
  readonly #max: number;
  #avg = -1;

  /**
   * @param targetMs The reader's work to cover, in milliseconds.
   * @param max The largest window (also bounded by a queue's maxsize).
   * @param initial The window before the reader's pace is known.
   */
  constructor(targetMs: number, max: number, initial: number) {
    this.#targetMs = targetMs;
    this.#max = max;
    this.window = initial;
  }

  /** Learns from one item that took the reader `ms` milliseconds. */
  learn(ms: number): void {
    this.#avg = this.#avg < 0 ? ms : this.#avg * 0.75 + ms * 0.25;
    const window = this.#avg > 10 * this.#targetMs
      ? 1
      : Math.ceil(this.#targetMs / Math.max(this.#avg, 0.001)) + 1;
    this.window = Math.max(1, Math.min(window, this.#max));
  }
}

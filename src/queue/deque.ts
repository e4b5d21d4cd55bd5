/**
 * A FIFO with O(1) push, shift and unshift, for queues of any length.
 * @module
 */

/** A double-ended queue over a growable ring buffer. */
export class Deque<T> {
  #items: (T | undefined)[] = new Array(16);
  #head = 0;
  #length = 0;

  /** How many items it holds. */
  get length(): number {
    return this.#length;
  }

  #grow(): void {
    const old = this.#items;
    // Only called when full: the ring is old[head..] then old[..head].
    const items = old.slice(this.#head).concat(old.slice(0, this.#head));
    items.length = old.length * 2;
    this.#items = items;
    this.#head = 0;
  }

  /** Adds at the back. */
  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
  }

  /** Adds at the front. */
  unshift(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#items.length - 1);
    this.#items[this.#head] = item;
    this.#length++;
  }

  /** Removes from the front. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return item;
  }

  /** The front item, left in place. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }
}

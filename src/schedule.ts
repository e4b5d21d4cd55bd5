/**
 * Running a callback after the current burst of work, without timers'
 * clamping: batches fill while a loop of `await put()` runs, and go out
 * when the thread next turns its event loop.
 * @module
 */

type Immediate = (callback: () => void) => unknown;

const immediate: Immediate =
  typeof (globalThis as { setImmediate?: Immediate }).setImmediate ===
      "function"
    ? (globalThis as unknown as { setImmediate: Immediate }).setImmediate
    : (callback) => setTimeout(callback, 0);

/** Calls `callback` on the next turn of the event loop. */
export function soon(callback: () => void): void {
  immediate(callback);
}

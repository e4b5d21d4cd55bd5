/**
 * How far a client got, shared with the owner through a tiny
 * SharedArrayBuffer, so that when the client's thread dies the owner knows
 * exactly which held items were finished, which one was in progress and
 * which were never read — without a message per item.
 *
 * Counters are cumulative over the client's life, in delivery order:
 * - `returned`: items handed to the reader;
 * - `finished`: items the reader is done with (it asked for the next one);
 * - `committed`: finished items whose outputs are safe (every put the
 *   thread made before, to any engine, was accepted: see `ledger.ts`), so
 *   they need no redelivery;
 * - `received` (written by the owner): batches of puts the owner has taken
 *   in, so that a thread ending itself can wait until its last puts arrived.
 * @module
 */

const COMMITTED = 0;
const FINISHED = 1;
const RETURNED = 2;
const RECEIVED = 3;

/** What the owner reads after a client died. */
export interface Progress {
  committed: number;
  finished: number;
  returned: number;
}

/** A fresh shared cell, or `undefined` where SharedArrayBuffer is missing. */
export function progressCell(): Int32Array | undefined {
  return typeof SharedArrayBuffer === "function"
    ? new Int32Array(new SharedArrayBuffer(16))
    : undefined;
}

/** Reads a cell (owner side). */
export function readProgress(
  cell: Int32Array | undefined,
): Progress | undefined {
  if (!cell) return undefined;
  return {
    committed: Atomics.load(cell, COMMITTED),
    finished: Atomics.load(cell, FINISHED),
    returned: Atomics.load(cell, RETURNED),
  };
}

/** Writes what the reader has had and finished (client side). */
export function writeRead(
  cell: Int32Array | undefined,
  finished: number,
  returned: number,
): void {
  if (!cell) return;
  Atomics.store(cell, FINISHED, finished);
  Atomics.store(cell, RETURNED, returned);
}

/** Writes how many finished items are committed (client side). */
export function writeCommitted(
  cell: Int32Array | undefined,
  committed: number,
): void {
  if (cell) Atomics.store(cell, COMMITTED, committed);
}

/** Counts one batch of puts as taken in (owner side), and wakes a client waiting for it. */
export function writeReceived(cell: Int32Array | undefined): void {
  if (!cell) return;
  Atomics.add(cell, RECEIVED, 1);
  Atomics.notify(cell, RECEIVED);
}

/**
 * Blocks this thread until the owner has taken in `batches` batches or
 * `deadline` (a `performance.now()` time) passes (client side). Returns
 * whether they all arrived; `false` at once where there is no cell.
 */
export function awaitReceived(
  cell: Int32Array | undefined,
  batches: number,
  deadline: number,
): boolean {
  if (!cell) return false;
  for (;;) {
    const seen = Atomics.load(cell, RECEIVED);
    if (seen >= batches) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    Atomics.wait(cell, RECEIVED, seen, left);
  }
}

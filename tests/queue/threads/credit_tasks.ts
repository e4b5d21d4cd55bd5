// Worker tasks of credit_test.ts: producers into bounded queues.
import type { Queue } from "../../../mod.ts";

/** Puts `n` numbers from `from` on, one awaited put each. */
export async function putRange(
  q: Queue<number>,
  from: number,
  n: number,
): Promise<void> {
  for (let i = from; i < from + n; i++) await q.put(i);
}

/**
 * Puts 0, says so in `cell[0]`, blocks until `cell[1]` says go (the owner
 * is then blocked too), puts 1..n and says so in `cell[2]`.
 */
export async function putWhileOwnerBlocked(
  q: Queue<number>,
  cell: Int32Array,
  n: number,
): Promise<void> {
  await q.put(0);
  Atomics.store(cell, 0, 1);
  Atomics.notify(cell, 0);
  while (Atomics.load(cell, 1) === 0) Atomics.wait(cell, 1, 0, 50);
  for (let i = 1; i <= n; i++) await q.put(i);
  Atomics.store(cell, 2, 1);
  Atomics.notify(cell, 2);
}

/** Puts one item, says so in `cell[0]`, then spins until it is stopped. */
export async function putOneAndSpin(
  q: Queue<number>,
  cell: Int32Array,
): Promise<void> {
  await q.put(1);
  Atomics.store(cell, 0, 1);
  for (;;) { /* holds its unused credit until it is stopped */ }
}

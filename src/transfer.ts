/**
 * Opting in to zero-copy moves.
 * @module
 */

import { show } from "./validate.ts";

const marked = new WeakMap<object, Transferable[]>();

/**
 * Marks `value` so that the objects in `list` (usually `ArrayBuffer`s) are
 * moved, not copied, when workq sends it to another thread: as an argument
 * of `run`, or as a task's return value. The sender's buffers are detached.
 * (For queue items use `put(item, { transfer })`.)
 *
 * @param value The value to send; it must be an object.
 * @param list The transferable objects inside it.
 * @returns `value` itself.
 * @throws {TypeError} When `value` is not an object or `list` not an array.
 * @example Return a large buffer from a task without a copy
 * ```ts
 * import { run, transfer } from "@workq/workq";
 * const handle = run(() => {
 *   const bytes = new Uint8Array(1 << 20).fill(7);
 *   return transfer(bytes, [bytes.buffer]);
 * });
 * console.log((await handle.result).length); // 1048576
 * ```
 */
export function transfer<T>(value: T, list: Transferable[]): T {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(
      `Cannot mark for transfer: value must be an object, received ${
        show(value)
      }`,
    );
  }
  if (!Array.isArray(list)) {
    throw new TypeError(
      `Cannot mark for transfer: list must be an array, received ${show(list)}`,
    );
  }
  checkTransferList("mark for transfer", "list", list);
  marked.set(value, list);
  return value;
}

/**
 * Throws a `TypeError` when a transfer list names one object twice or holds
 * a buffer already moved: runtimes disagree on these (Deno accepts a
 * duplicate at first and throws later, in another thread's turn).
 */
export function checkTransferList(
  what: string,
  name: string,
  list: readonly unknown[],
): void {
  const seen = new Set<unknown>();
  list.forEach((item, i) => {
    if (typeof item !== "object" || item === null) {
      throw new TypeError(
        `Cannot ${what}: ${name}[${i}] must be a transferable object (an ArrayBuffer, a MessagePort, ...), received ${
          show(item)
        }`,
      );
    }
    if (seen.has(item)) {
      throw new TypeError(
        `Cannot ${what}: ${name}[${i}] is listed twice (${
          show(item)
        }); list each object once`,
      );
    }
    seen.add(item);
    if ((item as { detached?: boolean }).detached === true) {
      throw new TypeError(
        `Cannot ${what}: ${name}[${i}] (${
          show(item)
        }) is detached: it was already moved to another thread`,
      );
    }
  });
}

/** The transfer list marked on `value`, if any (it is consumed). */
export function takeTransfer(value: unknown): Transferable[] {
  if (typeof value !== "object" || value === null) return [];
  const list = marked.get(value);
  if (!list) return [];
  marked.delete(value);
  return list;
}

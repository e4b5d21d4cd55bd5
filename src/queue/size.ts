/**
 * The size of an item as `maxItemBytes` measures it: a cheap estimate of
 * what structured clone copies, since the clone's own byte count is not
 * observable without cloning.
 * @module
 */
import { WIRE } from "../wire.ts";

/**
 * The estimated size of `value` in bytes: 2 per UTF-16 code unit of a
 * string (also of an object's keys, a RegExp's source), a buffer's
 * `byteLength` (each buffer once, also behind several views), 8 per number
 * or Date, 1 per boolean, null or undefined, a BigInt's bytes, and the sum
 * over the entries of arrays, plain objects, Maps and Sets. A queue inside
 * the item counts 0 (it travels as a small descriptor).
 */
export function itemBytes(value: unknown): number {
  return sizeOf(value, new Set());
}

function sizeOf(value: unknown, seen: Set<object>): number {
  switch (typeof value) {
    case "string":
      return value.length * 2;
    case "number":
      return 8;
    case "bigint":
      return Math.ceil(value.toString(16).length / 2) + 1;
    case "object":
      break;
    default:
      return 1;
  }
  if (value === null) return 1;
  const buffer = bufferOf(value);
  if (buffer) {
    if (seen.has(buffer)) return 0;
    seen.add(buffer);
    return buffer.byteLength;
  }
  if (seen.has(value)) return 0;
  seen.add(value);
  if (WIRE in value) return 0;
  if (value instanceof Date) return 8;
  if (value instanceof RegExp) return value.source.length * 2;
  let total = 0;
  if (value instanceof Map) {
    for (const [k, v] of value) total += sizeOf(k, seen) + sizeOf(v, seen);
    return total;
  }
  if (value instanceof Set) {
    for (const v of value) total += sizeOf(v, seen);
    return total;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) total += sizeOf(value[i], seen);
    return total;
  }
  for (const key of Object.keys(value)) {
    total += key.length * 2 +
      sizeOf((value as Record<string, unknown>)[key], seen);
  }
  return total;
}

function bufferOf(value: object): ArrayBufferLike | undefined {
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value)) return value.buffer;
  if (
    typeof SharedArrayBuffer !== "undefined" &&
    value instanceof SharedArrayBuffer
  ) return value;
  return undefined;
}

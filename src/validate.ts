/**
 * Checks of public arguments: a `TypeError` for a wrong type, a `RangeError`
 * for a value out of range, each naming the call, the argument and the value.
 * @module
 */
import { describeForeign, foreignCopy } from "./copies.ts";

/** Describes a received value for an error message. */
export function show(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") {
    return `string ${
      JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)
    }`;
  }
  if (typeof value === "function") {
    return `function ${value.name || "(anonymous)"}`;
  }
  if (typeof value === "object") {
    const home = foreignCopy(value);
    if (home !== undefined) return describeForeign(value, home);
    return Array.isArray(value)
      ? "an array"
      : `an object (${value.constructor?.name ?? "null prototype"})`;
  }
  if (typeof value === "symbol") return String(value);
  return `${typeof value} ${String(value)}`;
}

/**
 * `value` must be an object (or undefined, which gives `{}`); with `known`,
 * it may hold only those keys (see {@linkcode onlyKnown}).
 */
export function options<T extends object>(
  what: string,
  name: string,
  value: T | undefined,
  known?: readonly string[],
  elsewhere?: Readonly<Record<string, string>>,
): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Cannot ${what}: ${name} must be an object, received ${show(value)}`,
    );
  }
  if (known) onlyKnown(what, name, value, known, elsewhere);
  return value;
}

/**
 * An options object may hold only `known` keys: a misspelt or misplaced
 * option would otherwise be ignored without a word. The error suggests a
 * near match, or where the option belongs (`elsewhere`: key → its place).
 * Symbol keys (workq's own) are not checked.
 */
export function onlyKnown(
  what: string,
  name: string,
  value: object,
  known: readonly string[],
  elsewhere: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const place = Object.hasOwn(elsewhere, key) ? elsewhere[key] : undefined;
    const near = place ?? nearest(key, known);
    const hint = near === undefined
      ? `; the options are ${known.join(", ")}`
      : ` (did you mean ${place ?? `${name}.${near}`}?)`;
    throw new TypeError(
      `Cannot ${what}: ${name}.${key} is not an option${hint}`,
    );
  }
}

// The known key closest to `key`: the same letters ignoring case and `_`/`-`
// (snake_case from Python), else at most a few edits away.
function nearest(key: string, known: readonly string[]): string | undefined {
  const plain = (s: string) => s.replace(/[_-]/g, "").toLowerCase();
  const same = known.find((k) => plain(k) === plain(key));
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 4)) + 1;
  for (const k of known) {
    const d = distance(plain(key), plain(k));
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j] + 1,
        next[j - 1] + 1,
        row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length];
}

/** A number in `[min, max]` (an integer when `integer`); `undefined` gives `fallback`. */
export function number(
  what: string,
  name: string,
  value: unknown,
  fallback: number,
  { min = -Infinity, max = Infinity, integer = false } = {},
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `Cannot ${what}: ${name} must be a number, received ${show(value)}`,
    );
  }
  if (integer && Number.isFinite(value) && !Number.isInteger(value)) {
    throw new RangeError(
      `Cannot ${what}: ${name} must be an integer, received ${value}`,
    );
  }
  if (value < min || value > max) {
    const range = max === Infinity
      ? `at least ${min}`
      : `between ${min} and ${max}`;
    throw new RangeError(
      `Cannot ${what}: ${name} must be ${range}, received ${value}`,
    );
  }
  return value;
}

/** A string; `undefined` gives `fallback`. */
export function string(
  what: string,
  name: string,
  value: unknown,
  fallback: string,
): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string") {
    throw new TypeError(
      `Cannot ${what}: ${name} must be a string, received ${show(value)}`,
    );
  }
  return value;
}

/** A function or undefined. */
export function callback<F>(
  what: string,
  name: string,
  value: unknown,
): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function") {
    throw new TypeError(
      `Cannot ${what}: ${name} must be a function, received ${show(value)}`,
    );
  }
  return value as F;
}

/** An AbortSignal or undefined. */
export function signal(
  what: string,
  name: string,
  value: unknown,
): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (typeof AbortSignal === "undefined" || !(value instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot ${what}: ${name} must be an AbortSignal, received ${show(value)}`,
    );
  }
  return value;
}

/** An array or undefined. */
export function array<T>(
  what: string,
  name: string,
  value: unknown,
): T[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    throw new TypeError(
      `Cannot ${what}: ${name} must be an array, received ${show(value)}`,
    );
  }
  return value as T[];
}

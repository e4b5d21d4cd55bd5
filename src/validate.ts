/**
 * Checks of public arguments: a `TypeError` for a wrong type, a `RangeError`
 * for a value out of range, each naming the call, the argument and the value.
 * @module
 */

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
    return Array.isArray(value)
      ? "an array"
      : `an object (${value.constructor?.name ?? "null prototype"})`;
  }
  if (typeof value === "symbol") return String(value);
  return `${typeof value} ${String(value)}`;
}

/** `value` must be an object (or undefined, which gives `{}`). */
export function options<T extends object>(
  what: string,
  name: string,
  value: T | undefined,
): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Cannot ${what}: ${name} must be an object, received ${show(value)}`,
    );
  }
  return value;
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

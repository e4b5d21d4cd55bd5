/**
 * How values that hold live objects (queues) cross threads: such objects are
 * swapped for descriptors on the way out and revived on the way in. Also the
 * description of a value that structured clone refuses.
 * @module
 */

/** What to call when the thread an object was handed to dies, with how it died. */
export type Lifeline = (error: Error) => void;

/** Implemented by objects that travel as a descriptor (a queue handle). */
export interface Wired {
  /**
   * Returns a cloneable descriptor; pushes any ports to move into
   * `transfer`, and into `lifelines` what to call if the receiving thread dies.
   */
  [WIRE](transfer: Transferable[], lifelines: Lifeline[]): WireDescriptor;
}

/** The method name of {@linkcode Wired}. */
export const WIRE: unique symbol = Symbol.for("workq.wire");

/** The cloneable stand-in of a {@linkcode Wired} object. */
export interface WireDescriptor {
  readonly "workq:wired": string;
}

const TAG = "workq:wired";
const revivers = new Map<string, (descriptor: WireDescriptor) => unknown>();

/** Registers how descriptors of one kind come back to life. */
export function onRevive(
  kind: string,
  revive: (descriptor: WireDescriptor) => unknown,
): void {
  revivers.set(kind, revive);
}

function isPlainContainer(value: object): boolean {
  if (Array.isArray(value) || value instanceof Map || value instanceof Set) {
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether `value` holds a live workq object (a queue, a producer, ...) at any depth. */
export function holdsLive(value: unknown): boolean {
  return hasWired(value, new Set());
}

/** What a queue keeps of an item's data: encoded, and what it moves. */
export interface EncodedItem {
  d: unknown;
  w: boolean;
  x: Transferable[] | undefined;
}

/**
 * Encodes an item's data for a queue whose items cross threads: live
 * objects become descriptors (their ports join the transfer list). With
 * `moveNow` (the queue's own thread, where nothing is posted) transferred
 * buffers are moved at once, so that the sender's copies are detached at
 * put as in any other thread; a move copies nothing.
 * @throws {TypeError} When the data cannot be moved.
 */
export function encodeItem(
  what: string,
  data: object,
  transfer: Transferable[] | undefined,
  moveNow: boolean,
): EncodedItem {
  const ports: Transferable[] = [];
  const { value, wired } = encode(data, ports);
  let x = transfer && transfer.length > 0 ? transfer : undefined;
  if (ports.length > 0) x = [...(x ?? []), ...ports];
  if (!moveNow || !transfer || transfer.length === 0) {
    return { d: value, w: wired, x };
  }
  try {
    const moved = structuredClone({ d: value, x }, { transfer: x });
    return { d: moved.d, w: wired, x: moved.x };
  } catch (error) {
    throw cloneError(what, data, error);
  }
}

function hasWired(value: unknown, seen: Set<object>): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (WIRE in value) return true;
  if (seen.has(value) || !isPlainContainer(value)) return false;
  seen.add(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if (hasWired(k, seen) || hasWired(v, seen)) return true;
    }
    return false;
  }
  if (value instanceof Set) {
    for (const v of value) if (hasWired(v, seen)) return true;
    return false;
  }
  for (const key in value) {
    if (hasWired((value as Record<string, unknown>)[key], seen)) return true;
  }
  return false;
}

function mapValue(
  value: unknown,
  fn: (v: object) => unknown | undefined,
  seen: Map<object, unknown>,
): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  // One live object met twice in a message travels, and revives, once: a
  // thread then has one handle (one port, one order of puts) per queue.
  const swapped = fn(value);
  if (swapped !== undefined) {
    seen.set(value, swapped);
    return swapped;
  }
  if (!isPlainContainer(value)) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    seen.set(value, out);
    for (let i = 0; i < value.length; i++) {
      if (i in value) out[i] = mapValue(value[i], fn, seen);
    }
    return out;
  }
  if (value instanceof Map) {
    const out = new Map();
    seen.set(value, out);
    for (const [k, v] of value) {
      out.set(mapValue(k, fn, seen), mapValue(v, fn, seen));
    }
    return out;
  }
  if (value instanceof Set) {
    const out = new Set();
    seen.set(value, out);
    for (const v of value) out.add(mapValue(v, fn, seen));
    return out;
  }
  const out: Record<string, unknown> = Object.create(
    Object.getPrototypeOf(value),
  );
  seen.set(value, out);
  for (const key in value) {
    out[key] = mapValue((value as Record<string, unknown>)[key], fn, seen);
  }
  return out;
}

/**
 * Swaps live objects in `value` for descriptors, pushing their ports into
 * `transfer`. Returns `wired: false` (and `value` untouched) when there are none.
 */
export function encode(
  value: unknown,
  transfer: Transferable[],
  lifelines: Lifeline[] = [],
): { value: unknown; wired: boolean } {
  if (
    typeof value !== "object" || value === null || !hasWired(value, new Set())
  ) {
    return { value, wired: false };
  }
  const swap = (
    v: object,
  ) => (WIRE in v ? (v as Wired)[WIRE](transfer, lifelines) : undefined);
  const out = mapValue(value, swap, new Map());
  return { value: out, wired: true };
}

/** Revives the descriptors in a value that {@linkcode encode} marked as wired. */
export function decode(value: unknown): unknown {
  return mapValue(value, (v) => {
    const kind = (v as Record<string, unknown>)[TAG];
    if (typeof kind !== "string") return undefined;
    const revive = revivers.get(kind);
    if (!revive) {
      throw new TypeError(`Cannot revive a "${kind}" in this thread`);
    }
    return revive(v as WireDescriptor);
  }, new Map());
}

function typeName(value: unknown): string {
  if (typeof value === "function") {
    return `function ${value.name || "(anonymous)"}`;
  }
  if (typeof value === "symbol") {
    return `symbol ${value.description ?? ""}`.trim();
  }
  if (typeof value === "object" && value !== null) {
    return Object.getPrototypeOf(value)?.constructor?.name ?? "object";
  }
  return typeof value;
}

const uncloneable = [WeakMap, WeakSet, Promise, globalThis.WeakRef].filter(
  Boolean,
) as (new (
  ...args: never[]
) => object)[];

/**
 * The longest string that crosses threads inside a message: Bun 1.4 drops a
 * message holding a string of 2^30 - 1 characters or more without a word
 * (measured; V8's strings stop short of that anyway).
 */
export const MAX_STRING_LENGTH = 2 ** 30 - 2;

/** Describes a string over {@linkcode MAX_STRING_LENGTH} at `path`. */
export function tooLong(path: string, text: string): string {
  return `${path} (a string of ${text.length} characters, over the ${MAX_STRING_LENGTH} that can cross threads)`;
}

/** Finds where a value holds something structured clone refuses: a path and a type. */
export function findUncloneable(
  value: unknown,
  path = "value",
  seen = new Set<object>(),
): string | undefined {
  if (typeof value === "function" || typeof value === "symbol") {
    return `${path} (${typeName(value)})`;
  }
  if (typeof value === "string" && value.length > MAX_STRING_LENGTH) {
    return tooLong(path, value);
  }
  if (typeof value !== "object" || value === null || seen.has(value)) {
    return undefined;
  }
  seen.add(value);
  if (uncloneable.some((C) => value instanceof C)) {
    return `${path} (${typeName(value)})`;
  }
  if (value instanceof Map) {
    let i = 0;
    for (const [k, v] of value) {
      const found = findUncloneable(k, `${path}.keys[${i}]`, seen) ??
        findUncloneable(v, `${path}.get(${i})`, seen);
      if (found) return found;
      i++;
    }
    return undefined;
  }
  if (value instanceof Set) {
    let i = 0;
    for (const v of value) {
      const found = findUncloneable(v, `${path}[${i++}]`, seen);
      if (found) return found;
    }
    return undefined;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const found = findUncloneable(
      (value as Record<string, unknown>)[key],
      `${path}.${key}`,
      seen,
    );
    if (found) return found;
  }
  return undefined;
}

/**
 * Builds the `TypeError` for a value that cannot be cloned: it names what
 * was being done, where the value sits and its type, and keeps the
 * runtime's own error as `cause`.
 */
export function cloneError(
  what: string,
  value: unknown,
  cause: unknown,
): TypeError {
  const where = findUncloneable(value) ?? `value (${typeName(value)})`;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new TypeError(
    `Cannot ${what}: ${where} cannot be cloned (${detail})`,
    { cause },
  );
}

/**
 * The clone error of a list (a task's arguments, a map's inputs) that holds
 * a value structured clone refuses, naming that value by its place in all
 * of them: `Cannot <what> with <noun> <first + its index + 1>: ...`.
 * `undefined` when every value of the list can be cloned.
 */
export function listCloneError(
  what: string,
  noun: string,
  values: unknown[],
  first: number,
  cause: unknown,
): TypeError | undefined {
  const at = values.findIndex((value) => findUncloneable(value) !== undefined);
  if (at < 0) return undefined;
  return cloneError(
    `${what} with ${noun} ${first + at + 1}`,
    values[at],
    cause,
  );
}

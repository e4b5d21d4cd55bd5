/**
 * The binary encoding of items in a Redis queue: the values structured clone
 * copies, with the same meaning on Deno, Bun and Node (Bun's `node:v8`
 * serializer does not write V8's format, so a runtime's own serializer
 * cannot be shared between workers on different runtimes).
 *
 * An encoded value is one tagged value, depth first. Numbers in the format:
 * `u` is an unsigned LEB128 integer, `f64` a little-endian float, a string
 * is `u` (byte length) + UTF-8. Every object (not primitives) gets the next
 * index in order of first appearance; tag `REF` + `u` points back to one,
 * which keeps shared references and cycles.
 *
 * | tag | value | body |
 * | --- | --- | --- |
 * | 0 | `undefined` | — |
 * | 1 | `null` | — |
 * | 2, 3 | `false`, `true` | — |
 * | 4 | integer in int32 (not -0) | zigzag `u` |
 * | 5 | other number (-0, NaN, ±Infinity, fractions) | `f64` |
 * | 6 | string | string |
 * | 7 | bigint | string (decimal) |
 * | 8 | Date | `f64` (time value) |
 * | 9 | RegExp | source string, flags string |
 * | 10 | dense array | `u` length, values |
 * | 11 | sparse array | `u` length, `u` count, count × (`u` index, value) |
 * | 12 | plain object | `u` count, count × (key string, value) |
 * | 13 | Map | `u` size, size × (key, value) |
 * | 14 | Set | `u` size, values |
 * | 15 | ArrayBuffer | `u` byte length, raw bytes |
 * | 16 | typed array or DataView | `u` type, `u` byte offset, `u` length, the buffer (a value: usually tag 15) |
 * | 17 | Error | name string, message string, `u` 0/1 + stack string |
 * | 18 | back-reference | `u` object index |
 * | 19 | boxed primitive | the primitive (a value) |
 *
 * As with structured clone, class instances arrive as plain objects with
 * their own enumerable string-keyed properties; functions and symbols are
 * refused with a `TypeError`.
 * @module
 */
import { builtinErrors } from "../errors.ts";

const UNDEFINED = 0;
const NULL = 1;
const FALSE = 2;
const TRUE = 3;
const INT = 4;
const FLOAT = 5;
const STRING = 6;
const BIGINT = 7;
const DATE = 8;
const REGEXP = 9;
const ARRAY = 10;
const SPARSE = 11;
const OBJECT = 12;
const MAP = 13;
const SET = 14;
const BUFFER = 15;
const VIEW = 16;
const ERROR = 17;
const REF = 18;
const BOXED = 19;

type ViewCtor = new (
  buffer: ArrayBuffer,
  byteOffset: number,
  length: number,
) => ArrayBufferView;

// The order is part of the format: append only.
const VIEWS: (ViewCtor | undefined)[] = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView as unknown as ViewCtor,
  (globalThis as { Float16Array?: ViewCtor }).Float16Array,
];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

class Writer {
  bytes = new Uint8Array(256);
  view = new DataView(this.bytes.buffer);
  at = 0;
  seen = new Map<object, number>();

  room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.at + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.bytes.subarray(0, this.at));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }

  byte(b: number): void {
    this.room(1);
    this.bytes[this.at++] = b;
  }

  uint(n: number): void {
    this.room(10);
    while (n >= 0x80) {
      this.bytes[this.at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.bytes[this.at++] = n;
  }

  f64(n: number): void {
    this.room(8);
    this.view.setFloat64(this.at, n, true);
    this.at += 8;
  }

  string(s: string): void {
    // ASCII, the common case, without the encoder's allocation.
    const n = s.length;
    if (n < 64) {
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if (s.charCodeAt(i) > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.uint(n);
        this.room(n);
        for (let i = 0; i < n; i++) this.bytes[this.at++] = s.charCodeAt(i);
        return;
      }
    }
    const utf8 = encoder.encode(s);
    this.uint(utf8.length);
    this.raw(utf8);
  }

  raw(b: Uint8Array): void {
    this.room(b.length);
    this.bytes.set(b, this.at);
    this.at += b.length;
  }
}

/**
 * Encodes a value in the format of this module.
 * @param value Anything structured clone copies.
 * @returns The bytes.
 * @throws {TypeError} When the value holds a function, a symbol or another
 * object structured clone refuses (the message says where).
 */
export function encodeValue(value: unknown): Uint8Array {
  // One writer serves every call (most items are small: a copy of their
  // bytes is cheaper than a new writer each); a call made while it is in
  // use (from a getter of the value) takes its own.
  const w = spare ?? new Writer();
  spare = undefined;
  try {
    write(w, value, "value");
    if (w.at > KEEP_BYTES) return w.bytes.subarray(0, w.at); // given away
    const out = w.bytes.slice(0, w.at);
    w.at = 0;
    w.seen.clear();
    spare = w;
    return out;
  } catch (error) {
    if (w.bytes.length <= KEEP_BYTES) {
      w.at = 0;
      w.seen.clear();
      spare = w;
    }
    throw error;
  }
}

// Encoded values up to this size are copied out of the shared writer;
// larger ones keep its buffer, so that it never holds a large one.
const KEEP_BYTES = 16 * 1024;
let spare: Writer | undefined;

function refuse(path: string, what: string): never {
  throw new TypeError(`${path} (${what}) cannot be cloned`);
}

function write(w: Writer, value: unknown, path: string): void {
  switch (typeof value) {
    case "undefined":
      return w.byte(UNDEFINED);
    case "boolean":
      return w.byte(value ? TRUE : FALSE);
    case "number":
      if ((value | 0) === value && !Object.is(value, -0)) {
        w.byte(INT);
        return w.uint(value >= 0 ? value * 2 : -value * 2 - 1);
      }
      w.byte(FLOAT);
      return w.f64(value);
    case "string":
      w.byte(STRING);
      return w.string(value);
    case "bigint":
      w.byte(BIGINT);
      return w.string(value.toString());
    case "function":
      return refuse(path, `function ${value.name || "(anonymous)"}`);
    case "symbol":
      return refuse(path, "symbol");
  }
  if (value === null) return w.byte(NULL);
  const object = value as object;
  const ref = w.seen.get(object);
  if (ref !== undefined) {
    w.byte(REF);
    return w.uint(ref);
  }
  w.seen.set(object, w.seen.size);
  if (Array.isArray(object)) {
    const keys = Object.keys(object);
    if (keys.length === object.length) {
      w.byte(ARRAY);
      w.uint(object.length);
      for (let i = 0; i < object.length; i++) {
        write(w, object[i], `${path}[${i}]`);
      }
      return;
    }
    const indices = keys.filter((k) => String(Number(k) >>> 0) === k);
    w.byte(SPARSE);
    w.uint(object.length);
    w.uint(indices.length);
    for (const k of indices) {
      w.uint(Number(k));
      write(w, object[Number(k)], `${path}[${k}]`);
    }
    return;
  }
  if (object instanceof ArrayBuffer) {
    w.byte(BUFFER);
    w.uint(object.byteLength);
    return w.raw(new Uint8Array(object));
  }
  if (ArrayBuffer.isView(object)) {
    const type = VIEWS.findIndex((C) => C && object instanceof C);
    if (type < 0 || !(object.buffer instanceof ArrayBuffer)) {
      return refuse(path, object.constructor.name);
    }
    const length = object instanceof DataView
      ? object.byteLength
      : (object as unknown as { length: number }).length;
    w.byte(VIEW);
    w.uint(type);
    w.uint(object.byteOffset);
    w.uint(length);
    return write(w, object.buffer, `${path}.buffer`);
  }
  if (object instanceof Date) {
    w.byte(DATE);
    return w.f64(object.getTime());
  }
  if (object instanceof RegExp) {
    w.byte(REGEXP);
    w.string(object.source);
    return w.string(object.flags);
  }
  if (object instanceof Map) {
    w.byte(MAP);
    w.uint(object.size);
    let i = 0;
    for (const [k, v] of object) {
      write(w, k, `${path}.keys[${i}]`);
      write(w, v, `${path}.get(${i++})`);
    }
    return;
  }
  if (object instanceof Set) {
    w.byte(SET);
    w.uint(object.size);
    let i = 0;
    for (const v of object) write(w, v, `${path}[${i++}]`);
    return;
  }
  if (object instanceof Error) {
    w.byte(ERROR);
    w.string(Object.hasOwn(builtinErrors, object.name) ? object.name : "Error");
    w.string(String(object.message));
    if (typeof object.stack === "string") {
      w.uint(1);
      w.string(object.stack);
    } else w.uint(0);
    return;
  }
  if (
    object instanceof Number || object instanceof String ||
    object instanceof Boolean || object instanceof BigInt
  ) {
    w.byte(BOXED);
    return write(w, object.valueOf(), path);
  }
  const proto = Object.getPrototypeOf(object);
  if (
    object instanceof Promise || object instanceof WeakMap ||
    object instanceof WeakSet ||
    (proto !== Object.prototype && proto !== null &&
      typeof (object as { then?: unknown }).then === "function")
  ) {
    return refuse(path, proto?.constructor?.name ?? "object");
  }
  const keys = Object.keys(object);
  w.byte(OBJECT);
  w.uint(keys.length);
  for (const k of keys) {
    w.string(k);
    write(w, (object as Record<string, unknown>)[k], `${path}.${k}`);
  }
}

class Reader {
  #view: DataView | undefined;
  at = 0;
  objects: unknown[] = [];
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  // Made when a float is read: most items have none.
  get view(): DataView {
    const b = this.bytes;
    return this.#view ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  byte(): number {
    if (this.at >= this.bytes.length) throw truncated();
    return this.bytes[this.at++];
  }

  uint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
  }

  f64(): number {
    if (this.at + 8 > this.bytes.length) throw truncated();
    const n = this.view.getFloat64(this.at, true);
    this.at += 8;
    return n;
  }

  take(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw truncated();
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  string(): string {
    const n = this.uint();
    const bytes = this.take(n);
    if (n < 64) {
      let s = "";
      for (let i = 0; i < n; i++) {
        if (bytes[i] > 0x7f) return decoder.decode(bytes);
        s += String.fromCharCode(bytes[i]);
      }
      return s;
    }
    return decoder.decode(bytes);
  }
}

function truncated(): Error {
  return new RangeError("Cannot decode a queue item: the bytes end too soon");
}

/**
 * Decodes bytes written by {@linkcode encodeValue}.
 * @param bytes The encoded value (a `Buffer` works too).
 * @returns A new value equal to the one encoded.
 * @throws {RangeError} When the bytes are not a value of this format.
 */
export function decodeValue(bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  const value = read(r);
  if (r.at !== bytes.length) {
    throw new RangeError("Cannot decode a queue item: bytes left over");
  }
  return value;
}

function read(r: Reader): unknown {
  const tag = r.byte();
  switch (tag) {
    case UNDEFINED:
      return undefined;
    case NULL:
      return null;
    case FALSE:
      return false;
    case TRUE:
      return true;
    case INT: {
      const z = r.uint();
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    case FLOAT:
      return r.f64();
    case STRING:
      return r.string();
    case BIGINT:
      return BigInt(r.string());
    case DATE:
      return keep(r, new Date(r.f64()));
    case REGEXP: {
      const at = r.objects.push(undefined) - 1;
      const source = r.string();
      return (r.objects[at] = new RegExp(source, r.string()));
    }
    case ARRAY: {
      const n = r.uint();
      const out = keep(r, new Array(n));
      for (let i = 0; i < n; i++) out[i] = read(r);
      return out;
    }
    case SPARSE: {
      const out = keep(r, new Array(r.uint()));
      const count = r.uint();
      for (let i = 0; i < count; i++) {
        const index = r.uint();
        out[index] = read(r);
      }
      return out;
    }
    case OBJECT: {
      const out = keep(r, {} as Record<string, unknown>);
      const n = r.uint();
      for (let i = 0; i < n; i++) {
        const key = r.string();
        const value = read(r);
        // A key "__proto__" is an own property, as structured clone makes it.
        if (key === "__proto__") {
          Object.defineProperty(out, key, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else out[key] = value;
      }
      return out;
    }
    case MAP: {
      const out = keep(r, new Map());
      const n = r.uint();
      for (let i = 0; i < n; i++) {
        const k = read(r);
        out.set(k, read(r));
      }
      return out;
    }
    case SET: {
      const out = keep(r, new Set());
      const n = r.uint();
      for (let i = 0; i < n; i++) out.add(read(r));
      return out;
    }
    case BUFFER: {
      const n = r.uint();
      // A copy (a Buffer's slice() would share the reply's memory).
      return keep(r, new Uint8Array(r.take(n)).buffer);
    }
    case VIEW: {
      const at = r.objects.push(undefined) - 1;
      const type = r.uint();
      const offset = r.uint();
      const length = r.uint();
      const buffer = read(r);
      const C = VIEWS[type];
      if (!C || !(buffer instanceof ArrayBuffer)) {
        throw new RangeError(
          `Cannot decode a queue item: unknown view type ${type}`,
        );
      }
      return (r.objects[at] = new C(buffer, offset, length));
    }
    case ERROR: {
      const at = r.objects.push(undefined) - 1;
      const name = r.string();
      const error =
        new (Object.hasOwn(builtinErrors, name) ? builtinErrors[name] : Error)(
          r.string(),
        );
      if (r.uint() === 1) error.stack = r.string();
      else delete error.stack;
      return (r.objects[at] = error);
    }
    case REF: {
      const index = r.uint();
      if (index >= r.objects.length) {
        throw new RangeError("Cannot decode a queue item: bad back-reference");
      }
      return r.objects[index];
    }
    case BOXED: {
      const at = r.objects.push(undefined) - 1;
      return (r.objects[at] = Object(read(r)));
    }
    default:
      throw new RangeError(`Cannot decode a queue item: unknown tag ${tag}`);
  }
}

function keep<T>(r: Reader, object: T): T {
  r.objects.push(object);
  return object;
}

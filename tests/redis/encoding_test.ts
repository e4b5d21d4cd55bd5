// The binary encoding of Redis queue items: every structured-clone type
// comes back equal, with shared references and cycles kept.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeValue, encodeValue } from "../../redis.ts";

const roundTrip = <T>(value: T): T => decodeValue(encodeValue(value)) as T;

test("primitives round-trip, -0, NaN, Infinity and big integers included", () => {
  const values = [
    undefined,
    null,
    true,
    false,
    0,
    1,
    -1,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    2 ** 53 - 1,
    -(2 ** 60),
    0.5,
    -1e-300,
    NaN,
    Infinity,
    -Infinity,
    "",
    "hello",
    "é✓😀 mixed",
    "x".repeat(10_000),
    0n,
    -123456789012345678901234567890n,
  ];
  for (const value of values) assert.deepEqual(roundTrip(value), value);
  assert.ok(Object.is(roundTrip(-0), -0));
});

test("objects, arrays, Map, Set, Date, RegExp, boxed primitives round-trip", () => {
  const value = {
    list: [1, "two", { three: 3 }],
    map: new Map<unknown, unknown>([["a", 1], [2, { b: [3] }]]),
    set: new Set([1, "x", null]),
    date: new Date(1_700_000_000_123),
    re: /a+b/gimsu,
    nested: { deep: { deeper: { deepest: [[], {}] } } },
    boxed: [Object(1), Object("s"), Object(false)],
    nothing: undefined,
  };
  const back = roundTrip(value);
  assert.deepEqual(back, value);
  assert.ok(back.date instanceof Date);
  assert.equal(back.re.flags, "gimsu");
  // Apart: Node 22's deepEqual does not take two invalid Dates as equal.
  const badDate = roundTrip(new Date(NaN));
  assert.ok(badDate instanceof Date && Number.isNaN(badDate.getTime()));
  assert.ok("nothing" in back);
});

test("sparse arrays keep their holes and length", () => {
  const sparse: unknown[] = [];
  sparse[2] = "two";
  sparse[1000] = 1000;
  const back = roundTrip(sparse);
  assert.equal(back.length, 1001);
  assert.ok(!(0 in back));
  assert.equal(back[2], "two");
  assert.equal(back[1000], 1000);
  assert.deepEqual(Object.keys(back), ["2", "1000"]);
});

test("ArrayBuffers and typed arrays travel as raw bytes, views keep their offset", () => {
  const buffer = new ArrayBuffer(16);
  new Uint8Array(buffer).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const value = {
    buffer,
    bytes: new Uint8Array(buffer, 4, 4),
    floats: new Float64Array([1.5, -0, NaN]),
    big: new BigInt64Array([-1n, 2n ** 62n]),
    view: new DataView(buffer, 2, 6),
    clamped: new Uint8ClampedArray([0, 255]),
  };
  const encoded = encodeValue(value);
  // Raw bytes, not text: 1 MiB of data costs about 1 MiB.
  assert.ok(encodeValue(new ArrayBuffer(1 << 20)).byteLength < (1 << 20) + 8);
  const back = decodeValue(encoded) as typeof value;
  assert.deepEqual(back, value);
  assert.equal(back.bytes.byteOffset, 4);
  // Views over one buffer still share it.
  assert.equal(back.bytes.buffer, back.buffer);
  assert.equal(back.view.buffer, back.buffer);
  back.bytes[0] = 99;
  assert.equal(new Uint8Array(back.buffer)[4], 99);
});

test("errors keep name, message and stack", () => {
  const error = new RangeError("out of range");
  const back = roundTrip({
    error,
    custom: Object.assign(new Error("x"), { name: "MyError" }),
  });
  assert.ok(back.error instanceof RangeError);
  assert.equal(back.error.message, "out of range");
  assert.equal(back.error.stack, error.stack);
  // Structured clone too makes unknown error names plain Errors.
  assert.equal(back.custom.name, "Error");
});

test("shared references and cycles are kept", () => {
  const shared = { n: 1 };
  const cyclic: Record<string, unknown> = { shared, again: shared };
  cyclic.self = cyclic;
  const map = new Map<string, unknown>();
  map.set("me", map);
  cyclic.map = map;
  const back = roundTrip(cyclic);
  assert.equal(back.self, back);
  assert.equal(back.shared, back.again);
  const backMap = back.map as Map<string, unknown>;
  assert.equal(backMap.get("me"), backMap);
});

test("class instances arrive as plain objects, as with structured clone", () => {
  class Point {
    x = 1;
    y = 2;
  }
  const back = roundTrip(new Point());
  assert.deepEqual(back, structuredClone(new Point()));
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
});

test("functions and symbols are refused with a TypeError saying where", () => {
  assert.throws(
    () => encodeValue({ a: [1, { handler() {} }] }),
    (e: unknown) =>
      e instanceof TypeError && /value\.a\[1\]\.handler/.test(e.message),
  );
  assert.throws(() => encodeValue(Symbol("s")), TypeError);
  assert.throws(() => encodeValue(new WeakMap()), TypeError);
});

test("garbage does not decode", () => {
  assert.throws(() => decodeValue(new Uint8Array([200])), RangeError);
  assert.throws(() => decodeValue(new Uint8Array([6, 10, 65])), RangeError);
  assert.throws(() => decodeValue(new Uint8Array([1, 1])), RangeError);
});

test("values encoded one after the other, large and small, and from inside a getter, each decode as themselves", () => {
  const big = { text: "y".repeat(100_000), list: [1, 2, 3] };
  const inner = { n: 7, s: "inner" };
  let innerBytes: Uint8Array | undefined;
  const withGetter = {
    get nested() {
      innerBytes = encodeValue(inner); // while the outer value is encoding
      return [1, "two"];
    },
    after: "x",
  };
  const encoded = [
    encodeValue(1),
    encodeValue(big),
    encodeValue("small"),
    encodeValue(withGetter),
    encodeValue(-5),
  ];
  assert.deepEqual(encoded.map((b) => decodeValue(b)), [
    1,
    big,
    "small",
    { nested: [1, "two"], after: "x" },
    -5,
  ]);
  assert.deepEqual(decodeValue(innerBytes!), inner);
  assert.throws(() => encodeValue({ f: () => {} }), TypeError);
  assert.deepEqual(decodeValue(encodeValue({ ok: 1 })), { ok: 1 });
});

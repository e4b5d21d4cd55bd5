// Property test: random structured-clone payloads go main -> worker ->
// worker -> main through queues and come back equal.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Queue, run, task } from "../../mod.ts";
import { here } from "../_helpers.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("../fixtures/tasks.ts");

// A small seeded PRNG (mulberry32): failures are reproducible from the seed.
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function payload(random: () => number, depth = 0): unknown {
  const pick = (n: number) => Math.floor(random() * n);
  const leaves: (() => unknown)[] = [
    () => random() * 1e6 - 5e5,
    () => pick(2 ** 31),
    () => [-0, NaN, Infinity, -Infinity][pick(4)],
    () => "s" + pick(1000) + "\u00e9\u{1F600}",
    () => random() < 0.5,
    () => null,
    () => undefined,
    () => BigInt(pick(1e9)) * 10n ** BigInt(pick(20)),
    () => new Date(pick(2e12)),
    () => new RegExp(`a${pick(9)}+b`, ["g", "i", "m", "gi", ""][pick(5)]),
    () => new Uint8Array(Array.from({ length: pick(20) }, () => pick(256))),
    () => new Float64Array(Array.from({ length: pick(8) }, () => random())),
    () => new Int32Array([pick(1e6), -pick(1e6)]),
    () =>
      new Uint8Array(Array.from({ length: pick(16) }, () => pick(256))).buffer,
    () => new [Error, TypeError, RangeError][pick(3)](`failure ${pick(100)}`),
  ];
  if (depth > 3 || random() < 0.4) return leaves[pick(leaves.length)]();
  const n = pick(5);
  switch (pick(5)) {
    case 0:
      return Array.from({ length: n }, () => payload(random, depth + 1));
    case 1: {
      const sparse: unknown[] = new Array(n + 3);
      sparse[pick(n + 3)] = payload(random, depth + 1);
      return sparse;
    }
    case 2:
      return new Map(
        Array.from(
          { length: n },
          (_, i) => [i % 2 ? `k${i}` : i, payload(random, depth + 1)],
        ),
      );
    case 3:
      return new Set(
        Array.from({ length: n }, () => payload(random, depth + 1)),
      );
    default: {
      const object: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) object[`f${i}`] = payload(random, depth + 1);
      if (random() < 0.3) object.self = object; // a cycle
      return object;
    }
  }
}

test("random payloads survive main -> worker -> worker -> main through queues", async () => {
  const seed = Date.now() % 100_000;
  const random = prng(seed);
  const [a, b, c] = [new Queue(), new Queue(), new Queue()];
  const pass = task<Tasks, "pass">(tasks, "pass");
  const first = run(pass, a, b);
  const second = run(pass, b, c);
  const sent = Array.from({ length: 300 }, () => payload(random));
  for (const value of sent) await a.put(value);
  for (let i = 0; i < sent.length; i++) {
    const back = (await c.get({ timeout: 20_000 })).data;
    assert.deepStrictEqual(back, sent[i], `payload ${i} (seed ${seed})`);
  }
  await a.end();
  await first;
  await b.end();
  await second;
});

test("a queue met twice in one item arrives as one queue, and its puts keep their order", async () => {
  const out = new Queue<number>();
  const same = await run(
    task((pair: { a: Queue<number>; b: Queue<number> }) => {
      const puts = [];
      for (let i = 0; i < 200; i++) {
        puts.push((i % 2 ? pair.a : pair.b).put(i));
      }
      return Promise.all(puts).then(() => pair.a === pair.b);
    }),
    { a: out, b: out },
  ).result;
  assert.equal(same, true);
  const got = [];
  for (let i = 0; i < 200; i++) got.push((await out.get()).data);
  assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
});

test("a queue handed to a worker twice, in separate messages, is one queue there", async () => {
  const out = new Queue<number>();
  const again = new Queue<Queue<number>>();
  const worker = run(
    async (first: Queue<number>, again: Queue<Queue<number>>) => {
      const second = (await again.get()).data;
      const puts = [];
      for (let i = 0; i < 200; i++) puts.push((i % 2 ? first : second).put(i));
      await Promise.all(puts);
      return first === second;
    },
    out,
    again,
  );
  await again.put(out);
  assert.equal(await worker.result, true);
  const got = [];
  for (let i = 0; i < 200; i++) got.push((await out.get()).data);
  assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
});

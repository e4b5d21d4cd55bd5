import assert from "node:assert/strict";
import { test } from "node:test";
import { here, overHttp, runScript } from "./_helpers.ts";

test("ezq's sum example prints the exact sum and the process exits by itself", async () => {
  const { code, stdout, stderr } = await runScript(here("../examples/sum.ts"), [
    "1000",
  ]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), "499500");
});

test("ezq's collatz example prints every step, sorted, and exits", async () => {
  const { code, stdout, stderr } = await runScript(
    here("../examples/collatz.ts"),
  );
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 40);
  for (let i = 0; i < 40; i++) {
    const expected = i % 2 === 0 ? i / 2 : 3 * i + 1;
    assert.match(
      lines[i],
      new RegExp(`^\\[\\s*${i},\\s*${expected}\\s*\\]$`),
      `line ${i}: ${lines[i]}`,
    );
  }
});

test("the transfer example moves 64 MiB and back, and exits", async () => {
  const { code, stdout, stderr } = await runScript(
    here("../examples/transfer.ts"),
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, /now has 0 bytes/);
  assert.match(stdout, /back: 67108864 bytes/);
});

test("a program whose worker failed still exits, with the error reported", async () => {
  const { code, stderr } = await runScript(here("./fixtures/fails.ts"));
  assert.notEqual(code, 0);
  assert.match(stderr, /broken on purpose/);
});

test("the map, ProcessQueue and IterableQueue examples print their results and exit", async () => {
  const map = await runScript(here("../examples/map.ts"));
  assert.equal(map.code, 0, map.stderr);
  assert.match(map.stdout, /\[input 0\] hello from process: 0/);
  assert.match(map.stdout, /Results: 10, 11, 12/);
  assert.match(map.stdout, /primes below 400000: 33860/);
  const pq = await runScript(here("../examples/process_queue.ts"));
  assert.equal(pq.code, 0, pq.stderr);
  assert.match(pq.stdout, /new instance: true queue length: 3/);
  assert.equal(pq.stdout.match(/^\w+: \d+$/gm)?.length, 6, "six items handled");
  assert.match(pq.stdout, /done: true/);
  const iq = await runScript(here("../examples/iterable_queue.ts"));
  assert.equal(iq.code, 0, iq.stderr);
  assert.match(iq.stdout, /30 items consumed/);
});

test("the Feeder example hashes every file of a tree and stops by itself", {
  skip: overHttp &&
    "the example finds the tree to hash beside itself by its file: URL",
}, async () => {
  const { code, stdout, stderr } = await runScript(
    here("../examples/hash_tree.ts"),
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, /hashed [1-9]\d* files \(0 failed, 0 unread\)/);
  assert.match(stdout, /^[0-9a-f]{16} {2}\S+/m);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { here, runScript } from "./_helpers.ts";

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

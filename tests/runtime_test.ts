import assert from "node:assert/strict";
import { test } from "node:test";
import { here, runScript } from "./_helpers.ts";

// Deno's Web Workers cannot be stopped in a busy loop: workq must not use
// them where it loads over http(s) (JSR) either.
test("a task busy-looping past its timeout rejects with a timeout WorkerError, and the process exits by itself", async () => {
  const { code, stdout, stderr } = await runScript(
    here("./fixtures/busy_timeout.ts"),
    [],
    20_000,
  );
  assert.equal(stdout.trim(), "WorkerError timeout", stderr);
  assert.equal(code, 0, stderr);
});

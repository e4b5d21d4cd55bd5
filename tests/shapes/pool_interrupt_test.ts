// Ctrl-C with pools: SIGINT stops every pool's workers, their pending tasks
// reject naming the interrupt, and the process ends as SIGINT ends it
// without a pool (or as the program's own SIGINT listener decides).
import assert from "node:assert/strict";
import { test } from "node:test";
import { startScript } from "../_child.ts";
import { here } from "../_helpers.ts";

const script = here("./fixtures/pool_sigint.ts");

test("SIGINT while two pools run busy tasks: both reject naming it, and SIGINT ends the process", async () => {
  const child = startScript(script);
  await child.waitFor(/started/);
  child.kill("SIGINT");
  // Killed by the signal (code null), as the same program without a pool.
  assert.equal(await child.exit(20_000), null, child.stderr());
  const lines = child.stdout().trim().split("\n").slice(1).sort();
  assert.deepEqual(lines, [
    'rejected: Pool "a" was interrupted (SIGINT)',
    'rejected: Pool "b" was interrupted (SIGINT)',
  ]);
});

test(
  "a program that listens to SIGINT itself keeps its say: the pools stop, the program goes on",
  {
    skip: "Deno" in globalThis &&
      "Deno's process.on('SIGINT') does not replace the default exit",
  },
  async () => {
    const child = startScript(script, ["own"]);
    await child.waitFor(/started/);
    child.kill("SIGINT");
    assert.equal(await child.exit(20_000), 0, child.stderr());
    const out = child.stdout();
    assert.match(out, /own handler/);
    assert.match(out, /rejected: Pool "a" was interrupted \(SIGINT\)/);
    assert.match(out, /rejected: Pool "b" was interrupted \(SIGINT\)/);
    assert.match(out, /still running\n$/);
  },
);

test("a workq group listening to SIGINT beside the pools (a Feeder's) gets it once; it decides, and the process ends by itself", async () => {
  const child = startScript(script, ["group"]);
  await child.waitFor(/started/);
  child.kill("SIGINT");
  assert.equal(await child.exit(20_000), 0, child.stderr());
  const out = child.stdout();
  assert.match(out, /group stop: SIGINT 1\n/);
  assert.doesNotMatch(out, /group stop: SIGINT 2/);
  assert.match(out, /rejected: Pool "a" was interrupted \(SIGINT\)/);
  assert.match(out, /rejected: Pool "b" was interrupted \(SIGINT\)/);
});

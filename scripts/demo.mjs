// The demo: real CPU work (counting primes) spread over workers with workq,
// against one thread, on Deno, Bun, Node 22 and Node 24, installing the
// pinned runtimes first when missing.
//
//   node scripts/demo.mjs
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ensureTools, root } from "./tools.mjs";

const bin = ensureTools(["deno", "bun", "node22", "node24"]);
const primes = join(root, "examples", "primes.ts");
const runs = [
  ["Deno 2.9.6", bin.deno, ["run", "--allow-read", primes]],
  ["Bun 1.4.5", bin.bun, [primes]],
  ["Node 22.23.3", bin.node22, [primes]],
  ["Node 24.21.0", bin.node24, [primes]],
];
let failed = 0;
for (const [name, command, args] of runs) {
  console.log(`\n=== ${name}`);
  const { status } = spawnSync(command, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (status !== 0) failed++;
}
process.exit(failed ? 1 : 0);

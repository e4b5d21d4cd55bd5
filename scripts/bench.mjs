// Runs the benchmarks on every runtime, one after the other.
//
//   node scripts/bench.mjs
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ensureTools, root } from "./tools.mjs";

const bin = ensureTools(["deno", "bun", "node24"]);
const file = join(root, "bench", process.argv[2] ?? "core_bench.ts");
const runs = [
  [bin.node24, [file]],
  [bin.bun, [file]],
  [bin.deno, ["run", "--allow-read", "--allow-write", "--allow-env", file]],
];
let failed = 0;
for (const [command, args] of runs) {
  const { status } = spawnSync(command, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (status !== 0) failed++;
}
process.exit(failed ? 1 : 0);

// Runs a benchmark on every runtime, one after the other: by default the
// performance suite (bench/suite.ts), or the file named.
//
//   node scripts/bench.mjs                  # bench/suite.ts on Node 24, Bun, Deno
//   node scripts/bench.mjs core_bench.ts    # another file of bench/
//   node scripts/bench.mjs bounded_bench.ts # bounded against unbounded puts, and memory
//   node scripts/bench.mjs w1_bench.ts      # issue 17's target 1 alone
//   node scripts/bench.mjs pool_bench.ts    # issue 15's Pool targets
//   node scripts/bench.mjs suite.ts node24  # only some runtimes (node24, bun, deno)
//
// The suite's peers (piscina, tinypool, workerpool, poolifier), pinned in
// bench/peers/package.json, and the Redis benchmark's BullMQ, pinned in
// bench/redis/package.json, are installed with npm into that folder's
// node_modules when missing: they are never a dependency of workq.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ensureDevDeps,
  ensureRedisServer,
  ensureTools,
  root,
} from "./tools.mjs";

const bin = ensureTools(["deno", "bun", "node24"]);
const name = process.argv[2] ?? "suite.ts";
const only = process.argv.slice(3);
const file = join(root, "bench", name);

// Same Deno flags as each file's header: the suite starts child processes.
const denoFlags = name === "core_bench.ts" || name === "w1_bench.ts"
  ? ["--allow-read", "--allow-write", "--allow-env"]
  : name === "redis_bench.ts"
  ? ["--allow-read", "--allow-env", "--allow-run", "--allow-net"]
  : name === "pool_bench.ts"
  ? [
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "--allow-sys",
  ]
  : ["--allow-read", "--allow-write", "--allow-env", "--allow-run"];

// Installs bench/<folder>/package.json's pins, once per change of it.
function ensureBenchDeps(folder) {
  const dir = join(root, "bench", folder);
  const manifest = readFileSync(join(dir, "package.json"), "utf8");
  const stamp = join(dir, "node_modules", ".pins");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === manifest) return;
  process.stderr.write(`installing bench/${folder}/node_modules\n`);
  execFileSync("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    "--no-package-lock",
    "--loglevel=error",
  ], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
  writeFileSync(stamp, manifest);
}
if (name === "suite.ts" || name === "pool_bench.ts") ensureBenchDeps("peers");
if (name === "redis_bench.ts") {
  ensureDevDeps(); // ioredis, for workq's side
  ensureRedisServer();
  ensureBenchDeps("redis");
}

const runs = [
  ["node24", bin.node24, [file]],
  ["bun", bin.bun, [file]],
  ["deno", bin.deno, ["run", ...denoFlags, file]],
].filter(([label]) => only.length === 0 || only.includes(label));
let failed = 0;
for (const [, command, args] of runs) {
  const { status } = spawnSync(command, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (status !== 0) failed++;
}
process.exit(failed ? 1 : 0);

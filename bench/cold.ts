/**
 * One cold start, in a fresh process (started by bench/suite.ts, once per
 * repeat): from nothing (no library loaded, no worker) to the first result of
 * a trivial task. Prints `RESULT {"ms": ..., "importMs": ...}`.
 *
 *   node bench/cold.ts <raw|workq|piscina|tinypool|workerpool|poolifier>
 *   bun bench/cold.ts <target>
 *   deno run --allow-read --allow-write --allow-env --allow-run --allow-sys --unstable-detect-cjs bench/cold.ts <target>
 *
 * raw: the runtime adapter, one worker spawned, one round trip. workq:
 * `await run(task(url, "one"), 1)`. A peer: `require` it, make a pool of one
 * thread, await its first task.
 */
import process from "node:process";

const t0 = performance.now();
const target = process.argv[2];
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
let importMs = 0;
let result: unknown;

if (target === "raw") {
  const { runtime } = await import("../src/runtime/mod.ts");
  importMs = performance.now() - t0;
  const worker = runtime.spawn(
    new URL(`./raw_worker${ext}`, import.meta.url),
    "raw",
    {
      error: (e) => console.error(e),
      unloaded: (e) => console.error(e),
      exit: () => {},
    },
  );
  result = await new Promise((resolve) => {
    worker.listen((data) => resolve((data as { v: number }).v));
    worker.post({ t: "one", v: 1 });
  });
  const ms = performance.now() - t0;
  await worker.terminate();
  emitCold(ms);
} else if (target === "workq") {
  const { run, task } = await import("../mod.ts");
  importMs = performance.now() - t0;
  type Tasks = typeof import("./tasks.ts");
  const tasks = new URL(`./tasks${ext}`, import.meta.url);
  result = await run(task<Tasks, "one">(tasks, "one"), 1);
  emitCold(performance.now() - t0);
} else {
  setInterval(() => {}, 1000); // see peer_bench.ts: poolifier on Node
  const { makePool } = await import("./peers.ts");
  type Peer = Parameters<typeof makePool>[0];
  const pool = makePool(target as Peer, 1);
  importMs = performance.now() - t0; // require happens in makePool
  result = await pool.run(1);
  const ms = performance.now() - t0;
  await pool.close();
  emitCold(ms);
}

function emitCold(ms: number): void {
  if (result !== 2) throw new Error(`${target}: first result ${result}, not 2`);
  console.log(`RESULT ${JSON.stringify({ ms, importMs })}`);
}
process.exit(0);

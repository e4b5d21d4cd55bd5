/**
 * The remote worker: a command that runs one export of a task module over a
 * Redis queue, on any host that reaches the server.
 *
 * ```sh
 * deno run --allow-net --allow-env --allow-read src/redis/worker.ts \
 *   --url redis://127.0.0.1:6379 --queue NAME --module ./tasks.ts --export fn [--results NAME]
 * bun src/redis/worker.ts --url ... (same arguments)
 * node src/redis/worker.ts --url ... (same arguments)
 * ```
 *
 * The export is called like a `run` task, `fn(inQ, outQ)`: `inQ` is the
 * queue `--queue`, `outQ` the queue `--results` (or `undefined`). It
 * usually loops `for await (const msg of iterMsg(inQ))` until its end
 * marker. When it returns, the worker waits until its puts are in Redis,
 * acknowledges what it read, prints the return value (JSON) if there is
 * one, and exits 0. A task that throws, a bad URL or a server that cannot
 * be reached exit 1 with one line on stderr (a task's error with its class:
 * `task "fn" threw RangeError: ...`).
 *
 * Options: `--claim-idle MS` (1000), `--max-attempts N` (3),
 * `--connect-timeout MS` (5000).
 * @module
 */
import process from "node:process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Queue } from "../queue/queue.ts";
import { closeQueue, redisQueue } from "./queue.ts";

const USAGE =
  "usage: worker.ts --url redis://host:port --queue NAME --module FILE --export NAME [--results NAME] [--claim-idle MS] [--max-attempts N] [--connect-timeout MS]";

function fail(message: string): never {
  process.stderr.write(`workq redis worker: ${message}\n`);
  process.exit(1);
}

function count(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    fail(`--${name} must be a positive number, received "${value}"`);
  }
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        url: { type: "string" },
        queue: { type: "string" },
        module: { type: "string" },
        export: { type: "string" },
        results: { type: "string" },
        "claim-idle": { type: "string" },
        "max-attempts": { type: "string" },
        "connect-timeout": { type: "string" },
      },
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  const { url, queue, module, results } = values;
  if (!url || !queue || !module || !values.export) fail(USAGE);
  const options = {
    claimIdle: count("claim-idle", values["claim-idle"]),
    maxAttempts: count("max-attempts", values["max-attempts"]),
    connectTimeout: count("connect-timeout", values["connect-timeout"]),
  };
  const specifier = /^[a-z][a-z0-9+.-]*:/i.test(module) && module.length > 2
    ? module
    : pathToFileURL(resolve(process.cwd(), module)).href;
  let fn: unknown;
  try {
    fn = (await import(specifier))[values.export];
  } catch (error) {
    fail(`cannot load ${module}: ${(error as Error).message}`);
  }
  if (typeof fn !== "function") {
    fail(`${module} has no function export "${values.export}"`);
  }
  const queues: Queue<unknown>[] = [];
  let result: unknown;
  let running = false;
  try {
    const inQ = await redisQueue(url, queue, options);
    queues.push(inQ);
    const outQ = results ? await redisQueue(url, results, options) : undefined;
    if (outQ) queues.push(outQ);
    running = true;
    result = await (fn as (...args: unknown[]) => unknown)(inQ, outQ);
    running = false;
    // The input's acks wait for the outputs: close the input first.
    for (const q of queues) await closeQueue(q);
  } catch (error) {
    // The task's error keeps its class, as a run() task's does.
    fail(
      running
        ? `task "${values.export}" threw ${
          error instanceof Error
            ? `${error.name}: ${error.message}`
            : String(error)
        }`
        : (error as Error)?.message ?? String(error),
    );
  }
  if (result !== undefined) process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

await main();

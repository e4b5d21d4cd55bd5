/**
 * The remote worker: a command that runs one export of a task module over a
 * Redis queue, on any host that reaches the server.
 *
 * ```sh
 * WORKQ_REDIS_URL=redis://worker:PASSWORD@10.0.0.5:6379 \
 *   deno run --allow-net --allow-env --allow-read src/redis/worker.ts \
 *   --queue NAME --module ./tasks.ts --export fn [--results NAME]
 * bun src/redis/worker.ts --url-file /run/secrets/redis-url --queue ... (same arguments)
 * node src/redis/worker.ts --url redis://127.0.0.1:6379 --queue ... (same arguments)
 * ```
 *
 * The server's URL comes from exactly one of: the environment variable
 * `WORKQ_REDIS_URL`, `--url-file PATH` (a file holding the URL; spaces and
 * newlines around it are ignored), or `--url URL`. A command line is
 * visible to every local user (`ps`), so `--url` is for a URL without a
 * password; with one, use the variable or the file. Two sources at once
 * are an error. No line the command prints holds the password.
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
import { readFileSync } from "node:fs";
import process from "node:process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Queue } from "../queue/queue.ts";
import { closeQueue, redisQueue } from "./queue.ts";
import { redact, scrub, secretForms } from "./secrets.ts";

const ENV = "WORKQ_REDIS_URL";

const USAGE =
  `usage: ${ENV}=redis://user:password@host:port worker.ts --queue NAME --module FILE --export NAME [--results NAME] [--claim-idle MS] [--max-attempts N] [--connect-timeout MS]
  the URL comes from one of: the variable ${ENV}, --url-file PATH (a file holding it), --url URL (seen by every local user in ps: only for a URL without a password)`;

// The password's forms, once the URL is known: nothing printed holds them,
// whatever a task's own error says.
let secrets: readonly string[] = [];

function fail(message: string): never {
  process.stderr.write(`workq redis worker: ${scrub(message, secrets)}\n`);
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

function readEnv(): string | undefined {
  try {
    return process.env[ENV] || undefined;
  } catch {
    // Deno without --allow-env: the variable cannot be the source.
    return undefined;
  }
}

// The one source of the URL the command was given.
function serverUrl(url: string | undefined, file: string | undefined): string {
  const env = readEnv();
  const given = [
    env !== undefined && `the variable ${ENV}`,
    file !== undefined && "--url-file",
    url !== undefined && "--url",
  ].filter(Boolean);
  if (given.length === 0) fail(`no Redis URL given\n${USAGE}`);
  if (given.length > 1) {
    fail(
      `the Redis URL is given ${given.length} ways (${
        given.join(", ")
      }): give exactly one`,
    );
  }
  if (file === undefined) return (env ?? url)!;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    fail(`cannot read --url-file ${file}: ${code ?? (error as Error).name}`);
  }
  const trimmed = text.trim();
  if (trimmed === "" || /\s/.test(trimmed)) {
    fail(
      `--url-file ${file} must hold one URL and nothing else (it ${
        trimmed === "" ? "is empty" : "holds more than one word"
      })`,
    );
  }
  return trimmed;
}

function passwordForms(url: string): readonly string[] {
  try {
    const spelt = new URL(url).password;
    return spelt ? secretForms(decodeURIComponent(spelt), spelt) : [];
  } catch {
    return []; // redisQueue() says what is wrong with it, redacted
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        url: { type: "string" },
        "url-file": { type: "string" },
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
    // A stray URL would be quoted in the message.
    fail(`${redact((error as Error).message)}\n${USAGE}`);
  }
  const { queue, module, results } = values;
  if (!queue || !module || !values.export) fail(USAGE);
  const url = serverUrl(values.url, values["url-file"]);
  secrets = passwordForms(url);
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

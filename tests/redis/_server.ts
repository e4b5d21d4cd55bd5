// A private redis-server for the Redis tests: a free loopback port, no
// persistence, stopped by its PID.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import process from "node:process";
import { after, before } from "node:test";
import { here, scriptArgv } from "../_helpers.ts";

/** The worker command, which the tests start as its users do. */
export const cli: URL = here("../src/redis/worker.ts");
/** The tasks the tests' worker commands run. */
export const tasks: URL = here("./redis/fixtures/tasks.ts");

/**
 * The worker command's arguments for running `exportName` of the tests'
 * tasks from queue `inName` (results into `outName`, when given); the
 * server's URL is the caller's (`--url`, a file or the environment).
 */
export function workerArgs(
  inName: string,
  outName: string | undefined,
  exportName: string,
): string[] {
  return [
    "--queue",
    inName,
    ...(outName === undefined ? [] : ["--results", outName]),
    "--module",
    tasks.href,
    "--export",
    exportName,
  ];
}

/** The runtime's command line for a script, as the worker CLI is started. */
export function scriptArgs(file: URL, args: string[]): string[] {
  return scriptArgv(file, args, ["--allow-net", "--allow-env", "--allow-read"]);
}

/** A script started as a child process, with what it printed so far. */
export interface Child {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
  /** `performance.now()` when it exited; NaN before. */
  exitedAt: number;
}

/** Starts `file` with this runtime (see {@linkcode scriptArgs}). */
export function startScript(
  file: URL,
  args: string[],
  env: Record<string, string> = {},
): Child {
  const child = spawn(process.execPath, scriptArgs(file, args), {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  const c: Child = {
    child,
    stdout: "",
    stderr: "",
    exitedAt: NaN,
    exit: new Promise((resolve) =>
      child.on("exit", (code) => {
        c.exitedAt = performance.now();
        resolve(code);
      })
    ),
  };
  child.stdout!.on("data", (d) => (c.stdout += d));
  child.stderr!.on("data", (d) => (c.stderr += d));
  return c;
}

/** `p`, or a rejection naming `what` after `ms`: a test fails, never hangs. */
export async function within<T>(
  ms: number,
  what: string,
  p: Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: no answer within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A port free on loopback now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function findServer(): string {
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], {
      encoding: "utf8",
    }).trim();
  } catch {
    // A loud failure, never a skip: scripts/test.mjs installs it.
    throw new Error(
      "redis-server is not on PATH: install it (apt-get install -y redis-server); `node scripts/test.mjs` does so when run as root",
    );
  }
}

/** A running redis-server. */
export interface RedisServer {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Options of {@linkcode startRedis}. */
export interface RedisServerOptions {
  /** The port (a restart on the same address); a free one by default. */
  port?: number;
  /** More arguments, e.g. `["--proto-max-bulk-len", "1mb"]`. */
  args?: string[];
  /** The addresses it listens on. @default ["127.0.0.1"] */
  bind?: string[];
}

/**
 * One private redis-server for a test file: started before its first test,
 * stopped after its last. Read `url` and `server` inside tests.
 */
export function redisForTests(
  options: RedisServerOptions = {},
): { readonly server: RedisServer; readonly url: string } {
  let server: RedisServer | undefined;
  before(async () => {
    server = await startRedis(options);
  });
  after(async () => {
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error("the redis-server is not started yet");
      return server;
    },
    get url() {
      return this.server.url;
    },
  };
}

/** Queue names unique to this process and call: `what-pid-n`. */
export function queueNamer(): (what: string) => string {
  let names = 0;
  return (what) => `${what}-${process.pid}-${++names}`;
}

/** Starts redis-server on a free loopback port; resolves once it answers. */
export async function startRedis(
  options: RedisServerOptions = {},
): Promise<RedisServer> {
  const bin = findServer();
  const port = options.port ?? await freePort();
  const child = spawn(bin, [
    "--port",
    String(port),
    "--bind",
    ...(options.bind ?? ["127.0.0.1"]),
    "--save",
    "",
    "--appendonly",
    "no",
    ...(options.args ?? []),
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${log}`)),
      10_000,
    );
    const onData = (chunk: Uint8Array) => {
      log += chunk;
      if (log.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${log}`));
    });
  });
  child.stdout!.removeAllListeners("data");
  child.stderr!.removeAllListeners("data");
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          return resolve();
        }
        child.once("exit", () => resolve());
        process.kill(child.pid!, "SIGKILL");
      }),
  };
}

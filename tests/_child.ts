// A script run as a child process on this runtime, driven by a test: wait
// for its output, send it signals, wait for its exit — every wait bounded.
import { spawn } from "node:child_process";
import process from "node:process";
import { scriptArgv } from "./_helpers.ts";

/** How to run the child: its environment and Deno's permission flags. */
export interface ChildOptions {
  /** Variables added to (or, when `undefined`, removed from) the environment. */
  env?: Record<string, string | undefined>;
  /** Deno's permission flags. @default ["--allow-read"] */
  deno?: string[];
}

/** A running script. */
export interface Child {
  /** Standard output so far. */
  readonly stdout: () => string;
  /** Standard error so far. */
  readonly stderr: () => string;
  /** Resolves once stdout matches `pattern`; rejects (killing the child) after `ms`, or if it exits first. */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  /** Sends a signal. */
  kill(signal: "SIGINT" | "SIGTERM" | "SIGKILL"): void;
  /** The exit code (null when killed by a signal); rejects after `ms`, killing the child. */
  exit(ms?: number): Promise<number | null>;
}

/** Starts `file` on the runtime running the tests. */
export function startScript(
  file: URL,
  args: string[] = [],
  options: ChildOptions = {},
): Child {
  const argv = scriptArgv(file, args, options.deno ?? ["--allow-read"]);
  const path = file.href;
  const env: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: "1",
  };
  delete env.FORCE_COLOR;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const child = spawn(process.execPath, argv, {
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  let stdout = "";
  let stderr = "";
  // Output is capped: a child that floods it must fail the test, not the runner.
  const cap = 1 << 20;
  const watchers = new Set<() => void>();
  child.stdout.on("data", (d) => {
    if (stdout.length < cap) stdout += d;
    for (const w of watchers) w();
  });
  child.stderr.on("data", (d) => {
    if (stderr.length < cap) stderr += d;
  });
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (c) => {
      code = c;
      for (const w of watchers) w();
      resolve(c);
    });
  });
  const describe = () => `${path}\nstdout: ${stdout}\nstderr: ${stderr}`;
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor(pattern, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) done(resolve);
          else if (code !== undefined) {
            done(() =>
              reject(new Error(`exited before ${pattern}: ${describe()}`))
            );
          }
        };
        // A child that never says it is ready is not left running.
        const timer = setTimeout(
          () =>
            done(() => {
              child.kill("SIGKILL");
              reject(new Error(`no ${pattern} within ${ms} ms: ${describe()}`));
            }),
          ms,
        );
        const done = (then: () => void) => {
          clearTimeout(timer);
          watchers.delete(check);
          then();
        };
        watchers.add(check);
        check();
      });
    },
    kill(signal) {
      // Deno's child.kill() sends only the first signal: a second SIGINT
      // is the point of some tests.
      if (code === undefined && child.pid !== undefined) {
        process.kill(child.pid, signal);
      }
    },
    async exit(ms = 20_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error(`did not exit within ${ms} ms: ${describe()}`));
        }, ms);
      });
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

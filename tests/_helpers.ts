// Test helpers: which command runs a script on the runtime running the tests.
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The extension of the sources the tests run from (.ts, or .js in the emitted form). */
export const ext: string = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/**
 * Whether the tests were loaded over http(s) (Deno only: the "deno (http)"
 * lane of scripts/test.mjs, as Deno users load workq from JSR). A test that
 * cannot apply there is skipped with `{ skip: overHttp && "reason" }`.
 */
export const overHttp: boolean = !import.meta.url.startsWith("file:");

/** Deno's flags that let a child import modules from where the tests came. */
export function importFlags(file: URL): string[] {
  if (file.protocol === "file:") return [];
  // No --reload: the lane gives its processes a fresh DENO_DIR of their own
  // (scripts/test.mjs). The served deno.json maps the package's bare imports
  // (ioredis).
  return [
    `--allow-import=${file.host}`,
    `--import-map=${file.origin}/deno.json`,
  ];
}

/** The URL of a module beside the tests, in the same form as the tests. */
export function here(path: string): URL {
  return new URL(path.replace(/\.ts$/, ext), import.meta.url);
}

/**
 * The arguments that run `file` with this runtime's executable: on Deno
 * `run`, `denoFlags` and what lets it import from where the tests came (a
 * script over http is run by its URL, as the tests were).
 */
export function scriptArgv(
  file: URL,
  args: string[] = [],
  denoFlags: string[] = ["--allow-read"],
): string[] {
  const path = file.protocol === "file:" ? fileURLToPath(file) : file.href;
  return "Deno" in globalThis
    ? ["run", ...denoFlags, ...importFlags(file), path, ...args]
    : [path, ...args];
}

/** Runs a script (file:, or http: on Deno) on this runtime; resolves with its exit code and output, or rejects after `ms`. */
export function runScript(
  file: URL,
  args: string[] = [],
  ms = 30_000,
  options: { cwd?: string; denoFlags?: string[] } = {},
): Promise<
  { code: number | null; stdout: string; stderr: string; elapsed: number }
> {
  const argv = scriptArgv(file, args, options.denoFlags);
  const path = file.href;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      NO_COLOR: "1",
    };
    delete env.FORCE_COLOR;
    const child = spawn(process.execPath, argv, {
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `${path} did not exit within ${ms} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, ms);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, elapsed: performance.now() - started });
    });
  });
}

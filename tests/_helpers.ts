// Test helpers: which command runs a script on the runtime running the tests.
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The extension of the sources the tests run from (.ts, or .js in the emitted form). */
export const ext: string = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/** The URL of a module beside the tests, in the same form as the tests. */
export function here(path: string): URL {
  return new URL(path.replace(/\.ts$/, ext), import.meta.url);
}

/** Runs a script on this runtime; resolves with its exit code and output, or rejects after `ms`. */
export function runScript(
  file: URL,
  args: string[] = [],
  ms = 30_000,
): Promise<
  { code: number | null; stdout: string; stderr: string; elapsed: number }
> {
  const isDeno = "Deno" in globalThis;
  const path = fileURLToPath(file);
  const argv = isDeno
    ? ["run", "--allow-read", path, ...args]
    : [path, ...args];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      NO_COLOR: "1",
    };
    delete env.FORCE_COLOR;
    const child = spawn(process.execPath, argv, {
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

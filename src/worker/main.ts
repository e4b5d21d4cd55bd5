/**
 * workq's worker entry for bundled apps, the `@workq/workq/worker` export:
 * the one module a bundle's workq workers start from. It holds the task
 * entry and the drivers of `map`, `Pool`, `Feeder` and `ProcessQueue`, which
 * a worker started from it runs from here instead of importing workq's own
 * files (a bundle has none). Build it as an entry point of its own and give
 * its URL to `setWorkerUrl` (docs/bundlers.md: esbuild and Vite).
 *
 * @example esbuild: the app and this entry, side by side in dist/
 * <!-- test: skip needs a bundler and a browser: tests/browser/bundlers.mjs builds and runs this -->
 * ```ts ignore
 * // esbuild app.ts worker=@workq/workq/worker --bundle --platform=browser --format=esm --outdir=dist
 * import { run, setWorkerUrl } from "@workq/workq";
 * setWorkerUrl(new URL("./worker.js", import.meta.url));
 * console.log(await run((n: number) => n * 2, 21)); // 42
 * ```
 * @module
 */
import { provide } from "./own.ts";
import { drainWorker, feederWorker, mapWorker } from "./drivers.ts";
import { poolWorker } from "./pool_driver.ts";
import "./entry.ts";

// Before any start message: entry.ts only listens while this module runs.
provide({
  mapWorker,
  drainWorker,
  feederWorker,
  poolWorker,
});

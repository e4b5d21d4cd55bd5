/**
 * Where workers start: workq's own entry beside this file, or a bundled copy
 * of the `@workq/workq/worker` export that the app names with
 * {@linkcode setWorkerUrl}.
 * @module
 */
import type { TaskSpec } from "../task.ts";
import { show } from "../validate.ts";
import { OWN } from "./own.ts";

// The emitted JavaScript keeps the layout and swaps the extension. Spelt
// with `+`, not as one literal: Vite copies (or inlines) the file a literal
// `new URL(..., import.meta.url)` names, unbundled, which no bundled app runs.
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const beside = (name: string) => new URL("./" + name + ext, import.meta.url);
/** The module every workq worker starts from, unless one is given. */
export const entry: URL = beside("entry");
/** The module of the shapes' drivers (map, Feeder, ProcessQueue). */
export const drivers: URL = beside("drivers");
/** The module of the pool's driver. */
export const poolDriver: URL = beside("pool_driver");

let given: URL | undefined;

/**
 * Tells workq where the app's bundler put its copy of the `@workq/workq/worker`
 * export, the one module that every workq worker starts from once bundled
 * (it holds the task entry and the drivers of `map`, `Pool`, `Feeder` and
 * `ProcessQueue`). Every worker started afterwards, by `run` or any shape,
 * starts from it. A bundle holds workq's modules under other names, so
 * without this its workers would be looked for beside files that are not
 * there. Unbundled workq (Deno, Node, Bun, a page that imports workq's own
 * files) needs no call. A module task is an entry of its own (esbuild) or a
 * file the bundler copies (Vite's `new URL("./tasks.js", import.meta.url)`),
 * named with `task(url, name)`; a function task needs no module. See
 * docs/bundlers.md.
 *
 * @param url The bundled worker entry's URL (a relative one is resolved
 * against the page), or `undefined` to go back to workq's own entry.
 * @throws {TypeError} When `url` is not a URL, a string that parses as one,
 * or `undefined`.
 * @example esbuild: `esbuild app.ts @workq/workq/worker --bundle --format=esm --outdir=dist` writes dist/app.js and dist/worker.js
 * <!-- test: skip needs a bundle and a browser: tests/browser/bundlers.mjs builds and runs this -->
 * ```ts ignore
 * import { run, setWorkerUrl } from "@workq/workq";
 * setWorkerUrl(new URL("./worker.js", import.meta.url));
 * console.log(await run((n: number) => n * 2, 21)); // 42
 * ```
 * @example Vite: its `?worker&url` import builds the entry and gives its URL
 * <!-- test: skip needs Vite and a browser: tests/browser/bundlers.mjs builds and runs this -->
 * ```ts ignore
 * import { run, setWorkerUrl } from "@workq/workq";
 * import workerUrl from "@workq/workq/worker?worker&url";
 * setWorkerUrl(workerUrl);
 * console.log(await run((n: number) => n * 2, 21)); // 42
 * ```
 */
export function setWorkerUrl(url: string | URL | undefined): void {
  if (url === undefined) {
    given = undefined;
    return;
  }
  if (typeof url !== "string" && !(url instanceof URL)) {
    throw new TypeError(
      `Cannot set the worker URL: expected a URL or a string, received ${
        show(url)
      }`,
    );
  }
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    given = new URL(url, base);
  } catch (error) {
    throw new TypeError(
      `Cannot set the worker URL: ${JSON.stringify(String(url))} is not a URL${
        base ? "" : " (a relative one needs a page to resolve it against)"
      }`,
      { cause: error },
    );
  }
}

/** The URL a new worker starts from. */
export function startUrl(): URL {
  return given ?? entry;
}

/**
 * The task as a worker started from {@linkcode startUrl} loads it: a bundled
 * worker entry holds the drivers itself (see `own.ts`), so their tasks name
 * it instead of workq's own driver files, which a bundle does not have.
 */
export function located(spec: TaskSpec): TaskSpec {
  if (!given || spec.kind !== "module") return spec;
  if (spec.module !== drivers.href && spec.module !== poolDriver.href) {
    return spec;
  }
  return { ...spec, module: OWN };
}

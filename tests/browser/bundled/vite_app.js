// The Vite app: `?worker&url` builds workq's worker entry as a worker bundle
// and gives its URL; `new URL(..., import.meta.url)` copies the task module.
import workerUrl from "@workq/workq/worker?worker&url";
import { bundledCases, squareIn } from "./cases.js";

globalThis.bundledCases = bundledCases(
  workerUrl,
  squareIn(new URL("./tasks.js", import.meta.url)),
);

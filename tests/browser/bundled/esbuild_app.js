// The esbuild app: `esbuild esbuild_app.js worker=@workq/workq/worker
// tasks.js --bundle --platform=browser --format=esm --outdir=out` puts the
// worker entry and the module task beside it.
import { bundledCases, squareIn } from "./cases.js";

const here = import.meta.url;
globalThis.bundledCases = bundledCases(
  new URL("./worker.js", here),
  squareIn(new URL("./tasks.js", here)),
);

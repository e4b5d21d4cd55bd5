// Builds workq's .js into dist/ and serves the browser example
// (examples/browser/index.html) on loopback, with the COOP/COEP headers
// that make the page cross-origin isolated, so SharedArrayBuffer exists.
// Needs only Node.js and npm (the pinned tsc is installed into .tools/, the
// harness's dependencies into node_modules/).
//
//   node examples/browser/serve.mjs              (http://127.0.0.1:8000/...)
//   node examples/browser/serve.mjs --port 9000
//   node examples/browser/serve.mjs --plain      (no COOP/COEP headers)
//
// Without the headers the page still runs, on SharedArrayBuffer's
// stand-ins: map()'s timeout goes over a MessagePort clock, and a dead
// worker's unacknowledged items all come again (marked), not only the ones
// it had started (docs/runtimes.md#browsers).
import { fileURLToPath } from "node:url";
import { emitDist } from "../../scripts/build.mjs";
import { ISOLATED, serveStatic } from "../../scripts/serve.mjs";
import { ensureDevDeps, ensureTools, root } from "../../scripts/tools.mjs";

/** The example's path under the server's origin. */
export const PAGE = "/examples/browser/index.html";

/**
 * Serves the repository (the page and dist/) on 127.0.0.1:`port` (0: a
 * free one), cross-origin isolated unless `isolated` is false. Resolves
 * with the server (its `origin` and `close()`) and the page's URL.
 */
export async function serveExample({ isolated = true, port = 0 } = {}) {
  const server = await serveStatic(root, isolated ? ISOLATED : {}, port);
  return { server, url: `${server.origin}${PAGE}` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--port");
  const port = at >= 0 ? Number(args[at + 1]) : 8000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port wants a port number, got ${args[at + 1]}`);
    process.exit(2);
  }
  // tsc type-checks redis.ts too, against the ioredis of node_modules/.
  const { tsc } = ensureTools(["tsc"]);
  ensureDevDeps();
  emitDist(tsc);
  const isolated = !args.includes("--plain");
  try {
    const { url } = await serveExample({ isolated, port });
    console.log(
      `${url}  (${
        isolated ? "cross-origin isolated" : "no COOP/COEP"
      }; Ctrl-C stops it)`,
    );
  } catch (error) {
    console.error(`cannot serve on port ${port}: ${error.message}`);
    process.exit(1);
  }
}

// A static http server for the "deno (http)" lane: the repository served on
// loopback, so that Deno loads workq by http: URL as its users load it from
// JSR by https: URL (and takes the paths that only such a URL takes). The
// browser lane serves its variants with it too, each with its own headers.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";

// Deno takes a remote module's media type from its content type.
const TYPES = {
  ".ts": "application/typescript",
  ".mts": "application/typescript",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".json": "application/json",
  ".html": "text/html; charset=utf-8",
};

/** The headers that make a page cross-origin isolated (SharedArrayBuffer there). */
export const ISOLATED = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
};

/**
 * Serves `dir` on 127.0.0.1 at `port` (0: a free one; GET only, files
 * only), with `headers` added to every response (the browser lane's
 * COOP/COEP, CORS and CSP variants). Resolves with the server's origin and
 * a `close()` that resolves once it has stopped.
 */
export function serveStatic(dir, headers = {}, port = 0) {
  const server = createServer(async (req, res) => {
    const path = normalize(
      decodeURIComponent(new URL(req.url, "http://x").pathname),
    );
    const file = join(dir, path);
    if (req.method !== "GET" || !file.startsWith(dir + sep)) {
      res.writeHead(404, headers).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-store",
        connection: "close",
        ...headers,
      }).end(body);
    } catch {
      res.writeHead(404, headers).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        origin: `http://127.0.0.1:${port}`,
        host: `127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

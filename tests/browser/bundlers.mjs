// The browser lane's bundled apps: the app in tests/browser/bundled/, which
// imports workq as an npm user does (the package dir dist/npm, built by
// scripts/test.mjs, installed as node_modules/@workq/workq), built by
// esbuild and by Vite with the commands docs/bundlers.md gives, and each
// build served statically (cross-origin isolated) and run in headless
// Chromium. Every bundler × case is one test; each case checks its result
// in the page (ezq's sum), and the runner asserts it again.
//
//   node --test tests/browser/bundlers.mjs   (after the build into dist/)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, before, test } from "node:test";
import { serveStatic } from "../../scripts/serve.mjs";
import { root } from "../../scripts/tools.mjs";
import { launchBrowser, watchPage } from "./launch.mjs";

const ISOLATED = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
};
const BUILD_TIMEOUT_MS = 120_000;

const expected = {
  sum: (got) => assert.equal(got, 4999950000),
  functionTask: (got) => assert.equal(got, 42),
  moduleTask: (got) => assert.equal(got, 144),
  map: (got) => assert.deepEqual(got, [2, 3, 4, 5, 6]),
  pool: (got) => assert.deepEqual(got, [15, 81]),
  withoutWorkerUrl: (got) => {
    assert.equal(got.name, "WorkerError", got.message);
    assert.match(got.message, /could not start/);
    assert.match(got.message, /its script \S+\/entry\.js could not be loaded/);
    assert.match(got.message, /404/);
  },
};

// The build commands, as docs/bundlers.md gives them (run in the app's dir).
const bin = (name) => join(root, "node_modules", ".bin", name);
function esbuild(dir, out, more = []) {
  execFileSync(bin("esbuild"), [
    "esbuild_app.js",
    "worker=@workq/workq/worker",
    "tasks.js",
    "--bundle",
    "--platform=browser",
    "--format=esm",
    `--outdir=${out}`,
    ...more,
  ], { cwd: dir, stdio: "pipe", timeout: BUILD_TIMEOUT_MS });
  cpSync(join(dir, "esbuild.html"), join(dir, out, "index.html"));
  return join(dir, out);
}
const bundlers = {
  esbuild: { build: (dir) => esbuild(dir, "out") },
  // The entries then share workq's modules as chunks.
  "esbuild --splitting": {
    build: (dir) => esbuild(dir, "out-split", ["--splitting"]),
  },
  vite: {
    build: (dir) => {
      execFileSync(process.execPath, [
        join(root, "node_modules", "vite", "bin", "vite.js"),
        "build",
        "--logLevel=warn",
      ], { cwd: dir, stdio: "pipe", timeout: BUILD_TIMEOUT_MS });
      return join(dir, "dist");
    },
  },
};

let browser;
let app;
const built = {};

before(async () => {
  const npm = join(root, "dist", "npm");
  if (!existsSync(join(npm, "package.json"))) {
    throw new Error("dist/npm is missing: run node scripts/test.mjs browser");
  }
  // A scratch app: the fixture's sources and workq installed as npm users
  // get it (a copy, as npm installs it, not a link into the repository).
  app = mkdtempSync(join(tmpdir(), "workq-bundled-"));
  cpSync(join(root, "tests", "browser", "bundled"), app, { recursive: true });
  cpSync(npm, join(app, "node_modules", "@workq", "workq"), {
    recursive: true,
  });
  for (const [name, bundler] of Object.entries(bundlers)) {
    try {
      const out = bundler.build(app);
      built[name] = { out, server: await serveStatic(out, ISOLATED) };
    } catch (error) {
      built[name] = {
        error: new Error(
          `${name} build failed: ${error.stderr ?? ""}${
            error.stdout ?? ""
          }${error.message}`,
        ),
      };
    }
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const { server } of Object.values(built)) await server?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

function builtBy(name) {
  const build = built[name];
  if (build.error) throw build.error;
  return build;
}

/** Every .js file of a build, as text. */
function scripts(dir) {
  return readdirSync(dir, { recursive: true })
    .filter((file) => String(file).endsWith(".js"))
    .map((file) => readFileSync(join(dir, String(file)), "utf8"));
}

/** Runs one case of a build in a fresh page; returns its value. */
async function inPage(name, which) {
  const { server } = builtBy(name);
  const page = await browser.newPage();
  const explain = watchPage(page);
  try {
    await page.goto(`${server.origin}/index.html`, { waitUntil: "load" });
    const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
    assert.equal(isolated, true, "crossOriginIsolated");
    await page.waitForFunction(() => globalThis.bundledCases !== undefined, {
      timeout: 30_000,
    });
    return await page.evaluate(
      (which) => globalThis.bundledCases[which](),
      which,
    );
  } catch (error) {
    throw explain(error);
  } finally {
    await page.close();
  }
}

for (const name of Object.keys(bundlers)) {
  // The Node path stays out: no `node:` module reaches the browser build.
  test(`${name}: the build imports no node: module`, () => {
    const { out } = builtBy(name);
    const texts = scripts(out);
    assert.ok(texts.length > 1, "an app and a worker entry");
    for (const text of texts) {
      assert.doesNotMatch(text, /(from|import)\s*\(?\s*["']node:/);
    }
  });
  for (const which of Object.keys(expected)) {
    test(`${name}: ${which}`, { timeout: 120_000 }, async () => {
      expected[which](await inPage(name, which));
    });
  }
}

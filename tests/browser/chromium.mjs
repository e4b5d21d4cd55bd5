// The browser lane: workq's emitted .js (dist/, built by scripts/test.mjs)
// in headless Chromium (Debian's, driven by puppeteer-core), served from
// loopback in each variant a page meets: cross-origin isolated (COOP/COEP:
// SharedArrayBuffer there), plain (no SharedArrayBuffer), cross-origin
// (workq from another origin, with CORS, as from a CDN) and a CSP without
// 'unsafe-eval'. Every case × variant is one test. Real time: no virtual
// time budget (it races ahead of workers). The same cases run in Firefox
// when tests/browser/firefox.mjs loads this file (WORKQ_BROWSER=firefox).
//
//   node --test tests/browser/chromium.mjs   (after the build into dist/)
import assert from "node:assert/strict";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ISOLATED, serveStatic } from "../../scripts/serve.mjs";
import { root } from "../../scripts/tools.mjs";
import { serveExample } from "../../examples/browser/serve.mjs";
import { launchBrowser, watchPage } from "./launch.mjs";

// The CDN: anyone may load it, from an isolated page too.
const CDN = {
  ...ISOLATED,
  "access-control-allow-origin": "*",
  "cross-origin-resource-policy": "cross-origin",
};
// On every response, workers' scripts included (a worker takes its CSP from
// its own script's response).
const CSP = {
  "content-security-policy":
    "default-src 'self'; script-src 'self' blob:; worker-src 'self' blob:",
};

const ALL = [
  "quickStart",
  "moduleTask",
  "functionTask",
  "transfer",
  "errors",
  "mapTimeout",
  "redelivery",
  "nested",
  "poolRun",
  "missingTaskModule",
];

/** What each case must give, whatever the variant. */
const expected = {
  quickStart: (got) => assert.equal(got, 499500),
  moduleTask: (got) => assert.deepEqual(got, { a: [1, 2], b: "x" }),
  functionTask: (got) => assert.equal(got, 42),
  transfer: (got) =>
    assert.deepEqual(got, {
      detached: 0,
      back: 16 * 1024 * 1024,
      first: 7,
      last: 7,
      isUint8Array: true,
    }),
  errors: (got) =>
    assert.deepEqual(got, {
      module: {
        name: "RangeError",
        message: "boom",
        cause: "the cause",
        isRangeError: true,
        isWorkerError: false,
      },
      fn: {
        name: "TypeError",
        message: "not a number",
        isRangeError: false,
        isWorkerError: false,
      },
    }),
  mapTimeout: (got) =>
    assert.deepEqual(got, {
      spun: "timeout",
      first: 10,
      last: 20,
      isFailure: true,
      reason: "timeout",
    }),
  // At least once: every item comes out, a first delivery never twice, and
  // each extra copy says it is one (attempt > 1). How many come again
  // depends on what the dead worker had read and confirmed (docs/runtimes.md).
  redelivery: (got) => {
    assert.equal(got.distinct, 2000);
    assert.equal(got.firstTwice, false);
    assert.ok(
      got.results - got.distinct <= got.marked,
      `unmarked repeats: ${JSON.stringify(got)}`,
    );
    assert.equal(got.terminated, true);
  },
  nested: (got) => assert.deepEqual(got, [4, 50]),
  poolRun: (got) => assert.deepEqual(got, [5, "warm"]),
  missingTaskModule: (got) => {
    assert.ok(got.message.includes(got.url), got.message);
    assert.match(got.message, /404/);
  },
  brokenEntry: (got) => {
    assert.equal(got.name, "WorkerError", got.message);
    assert.match(got.message, /could not start/);
    assert.ok(got.message.includes(got.entry), got.message);
    assert.match(got.message, /404/);
  },
  brokenMap: (got) => {
    assert.match(got.message, /failed to start/);
    assert.ok(got.message.includes(got.entry), got.message);
    assert.match(got.message, /404/);
  },
  twoCopies: (got) => {
    for (const where of ["page", "worker"]) {
      const { name, message } = got[where];
      assert.equal(name, "TypeError", `${where}: ${message}`);
      assert.match(message, /a Queue from another copy of workq/);
      assert.ok(message.includes(got.url.replace("mod.js", "")), message);
    }
  },
  functionTaskCsp: (got) => {
    assert.equal(got.name, "EvalError");
    assert.match(got.message, /Content Security Policy forbids eval/);
    assert.match(got.message, /task\(url, name\)/);
    assert.doesNotMatch(got.message, /not a function expression/);
  },
};

let browser;
let broken;
const servers = {};
const variants = [
  // [name, page server, workq server, cases]
  ["isolated", "isolated", "isolated", ALL],
  ["plain", "plain", "plain", ALL],
  ["cross-origin", "isolated", "cdn", ALL],
  ["csp", "csp", "csp", ["moduleTask", "functionTaskCsp"]],
  // A page that also loads workq from the CDN (?other=).
  ["two copies", "isolated", "isolated", ["twoCopies"]],
  // workq from a CDN that lacks the worker entry.
  ["broken", "isolated", "broken", ["brokenEntry", "brokenMap"]],
  ["broken, plain", "plain", "broken", ["brokenEntry", "brokenMap"]],
];

before(async () => {
  if (!existsSync(join(root, "dist", "mod.js"))) {
    throw new Error("dist/ is missing: run node scripts/test.mjs browser");
  }
  const headers = { isolated: ISOLATED, plain: {}, cdn: CDN, csp: CSP };
  for (const [name, h] of Object.entries(headers)) {
    servers[name] = await serveStatic(root, h);
  }
  // workq's modules without src/worker/entry.js.
  broken = mkdtempSync(join(tmpdir(), "workq-broken-"));
  cpSync(join(root, "dist", "src"), join(broken, "dist", "src"), {
    recursive: true,
  });
  cpSync(join(root, "dist", "mod.js"), join(broken, "dist", "mod.js"));
  rmSync(join(broken, "dist", "src", "worker", "entry.js"));
  servers.broken = await serveStatic(broken, CDN);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const server of Object.values(servers)) await server.close();
  if (broken) rmSync(broken, { recursive: true, force: true });
});

/** Runs one case in a fresh page; returns its value or throws its error. */
async function inPage(pageServer, libServer, name) {
  const page = await browser.newPage();
  const explain = watchPage(page);
  try {
    const lib = `${servers[libServer].origin}/`;
    const other = `${servers.cdn.origin}/`;
    await page.goto(
      `${
        servers[pageServer].origin
      }/tests/browser/page.html?lib=${lib}&other=${other}`,
      { waitUntil: "load" },
    );
    // The variant is what the page says it is (SharedArrayBuffer or not).
    const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
    assert.equal(isolated, pageServer === "isolated", "crossOriginIsolated");
    const value = await page.evaluate(
      (name) => globalThis.workqCases.then((cases) => cases[name]()),
      name,
    );
    // Chromium's protocol hands values over as JSON (an undefined property
    // dropped), Firefox's WebDriver BiDi keeps them: compare them as JSON.
    return value === undefined ? value : JSON.parse(JSON.stringify(value));
  } catch (error) {
    throw explain(error);
  } finally {
    await page.close();
  }
}

for (const [variant, pageServer, libServer, names] of variants) {
  for (const name of names) {
    test(`${name} (${variant})`, { timeout: 120_000 }, async (t) => {
      const got = await inPage(pageServer, libServer, name);
      // What the page computed, in the lane's output (redelivery's counts).
      t.diagnostic(`got ${JSON.stringify(got)}`);
      expected[name](got);
    });
  }
}

// examples/browser/, as its serve.mjs serves it (with and without COOP/COEP):
// the page shows ezq's sum and the transfer.
for (const isolated of [true, false]) {
  const variant = isolated ? "isolated" : "plain";
  test(`examples/browser (${variant})`, { timeout: 120_000 }, async () => {
    const { server, url } = await serveExample({ isolated });
    const page = await browser.newPage();
    const problems = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error}`));
    try {
      await page.goto(url, { waitUntil: "load" });
      await page.waitForFunction(
        () => document.getElementById("status").textContent !== "running",
        { timeout: 60_000 },
      );
      const shown = await page.evaluate((ids) => {
        const text = (id) => document.getElementById(id).textContent;
        return Object.fromEntries(ids.map((id) => [id, text(id)]));
      }, ["isolated", "sum", "transfer", "status"]);
      assert.deepEqual(problems, []);
      assert.deepEqual(shown, {
        isolated: String(isolated),
        sum: "499500",
        transfer: `page kept 0 bytes; worker summed ${
          3 * 16 * 1024 * 1024
        }; 16777216 bytes came back`,
        status: "done",
      });
    } finally {
      await page.close();
      await server.close();
    }
  });
}

// The README's page (its html block), with workq where the block says
// npx jsr add puts it: dist/npm/, the package as JSR's npm form serves it.
test("README.md's html block", { timeout: 120_000 }, async () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/^```html\n([^]*?)^```$/gm)];
  assert.equal(blocks.length, 1, "one html block in README.md");
  const site = mkdtempSync(join(tmpdir(), "workq-readme-page-"));
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error}`));
  let server;
  try {
    cpSync(join(root, "dist", "npm"), join(site, "node_modules/@workq/workq"), {
      recursive: true,
    });
    writeFileSync(join(site, "index.html"), blocks[0][1]);
    server = await serveStatic(site, ISOLATED);
    await page.goto(`${server.origin}/index.html`, { waitUntil: "load" });
    await page.waitForFunction(() => document.body.textContent === "42", {
      timeout: 60_000,
    });
  } catch (error) {
    if (problems.length) error.message += `\n${problems.join("\n")}`;
    throw error;
  } finally {
    await page.close();
    await server?.close();
    rmSync(site, { recursive: true, force: true });
  }
});

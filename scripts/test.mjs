// The whole test suite on Deno, Bun, Node 22 and Node 24, against the .ts
// sources, on Deno again with workq loaded over http (as Deno users load it
// from JSR over https), on both Node versions against the emitted .js
// form too, and that form in headless Chromium and Firefox (tests/browser/).
// Ends with one line "N passed, N failed" over every runtime; exits non-zero
// if any runtime failed or ran no test.
//
//   node scripts/test.mjs            (everything)
//   node scripts/test.mjs deno bun   (some runtimes only)
//   node scripts/test.mjs static     (the static checks only)
//   node scripts/test.mjs consumers  (the scratch consumer projects only)
//   node scripts/test.mjs browser    (headless Chromium and Firefox only)
// The build (tsc into dist/, and dist/npm/) runs every time.
import { execFileSync, spawn } from "node:child_process";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { emitDist } from "./build.mjs";
import { buildNpmPackage, runConsumers } from "./consumers.mjs";
import { serveStatic } from "./serve.mjs";
import {
  ensureDevDeps,
  ensureRedisServer,
  ensureTools,
  root,
} from "./tools.mjs";
import { checkPublish, checkWorkflow, PUBLISH, WORKFLOW } from "./workflow.mjs";

const TIMEOUT_MS = 15 * 60_000;
const DENO_FLAGS = [
  "--allow-read",
  "--allow-run",
  "--allow-env",
  "--allow-net",
  // tests/readme_test.ts writes each docs block to a file there, to run it.
  `--allow-write=${tmpdir()}`,
];

function testFiles(dir, ending) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path, ending));
    else if (name.endsWith(ending)) out.push(relative(root, path));
  }
  return out.sort();
}

function stripAnsi(text) {
  return text.replace(
    new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"),
    "",
  );
}

/** [passed, failed, skipped] as the runner's summary gives them. */
function counts(kind, output) {
  const text = stripAnsi(output);
  const pick = (re) => {
    const all = [...text.matchAll(re)];
    return all.length ? Number(all[all.length - 1][1]) : NaN;
  };
  if (kind === "deno") {
    const m = [
      ...text.matchAll(/(\d+) passed \| (\d+) failed(?: \| (\d+) ignored)?/g),
    ]
      .pop();
    return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [NaN, NaN, 0];
  }
  if (kind === "bun") {
    return [
      pick(/^\s*(\d+) pass$/gm),
      pick(/^\s*(\d+) fail$/gm),
      pick(/^\s*(\d+) skip$/gm) || 0,
    ];
  }
  return [
    pick(/^[ℹ#] pass (\d+)$/gm),
    pick(/^[ℹ#] fail (\d+)$/gm),
    pick(/^[ℹ#] skipped (\d+)$/gm) || 0,
  ];
}

/**
 * The failing tests' names (with a file or the first error line where the
 * runner gives one), so that the summary at the end of a long log, the part
 * CI keeps, says what failed.
 */
function failures(kind, output) {
  const lines = stripAnsi(output).split("\n");
  if (kind === "deno") {
    const start = lines.lastIndexOf(" FAILURES ");
    if (start < 0) return [];
    const names = [];
    for (const line of lines.slice(start + 1)) {
      if (/^(FAILED|ok) \|/.test(line)) break;
      if (line.trim()) names.push(line.trim());
    }
    return names;
  }
  if (kind === "bun") {
    return lines.filter((l) => l.startsWith("(fail) ")).map((l) => l.slice(7));
  }
  const start = lines.lastIndexOf("✖ failing tests:");
  if (start < 0) return [];
  const names = [];
  let where = "";
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("test at ")) where = line.slice(8);
    else if (line.startsWith("✖ ")) {
      const why = (lines[i + 1] ?? "").trim();
      names.push(`${line.slice(2)}${where ? ` — ${where}` : ""}: ${why}`);
      where = "";
    }
  }
  return names;
}

function runSuite(label, kind, command, args, env = {}) {
  return new Promise((resolve) => {
    console.log(`\n=== ${label}: ${relative(root, command)} ${args.join(" ")}`);
    const child = spawn(command, args, {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env, NO_COLOR: "1" },
    });
    let output = "";
    const take = (stream) => (chunk) => {
      output += chunk;
      stream.write(chunk);
    };
    child.stdout.on("data", take(process.stdout));
    child.stderr.on("data", take(process.stderr));
    const timer = setTimeout(() => {
      output += `\n${label}: timed out after ${TIMEOUT_MS / 1000} s\n`;
      child.kill("SIGKILL");
    }, TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const [passed, failed, skipped] = counts(kind, output);
      const failing = failures(kind, output);
      resolve({ label, code, signal, passed, failed, skipped, failing });
    });
  });
}

const only = process.argv.slice(2);
const wanted = (name) =>
  only.length === 0 || only.some((o) => name.startsWith(o));
const bin = ensureTools();
ensureDevDeps();
// The Redis tests fail loudly (they never skip) when this could not install it.
ensureRedisServer();

// The form Node users get from JSR: .js + .d.ts emitted from the sources.
try {
  emitDist(bin.tsc);
} catch {
  console.log("FAIL emitting the .js form with tsc (see above)");
  console.log("0 passed, 1 failed");
  process.exit(1);
}
// The npm package JSR's npm compatibility would serve, for the consumers.
try {
  buildNpmPackage();
} catch (error) {
  console.log(`FAIL building dist/npm: ${error.message}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

/**
 * The "deno (http)" lane: the repository served on loopback, and one file:
 * runner per test module that imports it by http: URL (deno test takes only
 * local modules). Everything the tests load then comes over http, workq's
 * worker modules too. Returns the lane's arguments, environment and cleanup.
 */
async function overHttp(tests) {
  const server = await serveStatic(root);
  const dir = mkdtempSync(join(tmpdir(), "workq-http-"));
  // The repository's import map (ioredis), without its exclusion of dist/.
  const { imports } = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  writeFileSync(
    join(dir, "deno.json"),
    JSON.stringify({ imports, nodeModulesDir: "none" }),
  );
  for (const file of tests) {
    const url = `${server.origin}/${file.split("\\").join("/")}`;
    writeFileSync(
      join(dir, relative("tests", file).replace(/[\\/]/g, "__")),
      `import ${JSON.stringify(url)};\n`,
    );
  }
  return {
    args: [
      "test",
      "--config",
      join(dir, "deno.json"),
      ...DENO_FLAGS,
      `--allow-import=${server.host}`,
      dir,
    ],
    // A cache of its own, which the lane's child processes share: a module
    // cached by an earlier run on the same port cannot hide a change, and no
    // --reload makes every worker fetch workq again (Deno 2.9's workers
    // then lose fetches to a dropped connection: "dispatch task is gone").
    env: { DENO_DIR: join(dir, "cache") },
    cleanup: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const tsTests = testFiles(join(root, "tests"), "_test.ts");
const jsTests = testFiles(join(root, "dist", "tests"), "_test.js");
const allSuites = [
  ["deno", "deno", bin.deno, ["test", ...DENO_FLAGS, "tests/"]],
  ["deno (http)", "deno", bin.deno, () => overHttp(tsTests)],
  ["bun", "bun", bin.bun, ["test", "--timeout", "60000", "./tests/"]],
  ["node22", "node", bin.node22, [
    "--test",
    "--test-reporter=spec",
    ...tsTests,
  ]],
  ["node24", "node", bin.node24, [
    "--test",
    "--test-reporter=spec",
    ...tsTests,
  ]],
  ["node22 (emitted .js)", "node", bin.node22, [
    "--test",
    "--test-reporter=spec",
    ...jsTests,
  ]],
  ["node24 (emitted .js)", "node", bin.node24, [
    "--test",
    "--test-reporter=spec",
    ...jsTests,
  ]],
  // The emitted .js in headless Chromium, served in each variant a page
  // meets, and bundled by esbuild and Vite; the runner installs Chromium
  // (apt-get) when missing.
  ["browser (chromium)", "node", bin.node24, [
    "--test",
    "--test-reporter=spec",
    "tests/browser/chromium.mjs",
    "tests/browser/bundlers.mjs",
  ]],
  // The same cases in Firefox (Debian's firefox-esr, over WebDriver BiDi).
  ["browser (firefox)", "node", bin.node24, [
    "--test",
    "--test-reporter=spec",
    "tests/browser/firefox.mjs",
  ]],
];
const suites = allSuites.filter(([label]) => wanted(label));
// What a selector can name, by prefix.
const LABELS = ["static checks", ...allSuites.map(([l]) => l), "consumers"];

// Static checks, one test each: what JSR and our style require.
async function staticChecks() {
  const checks = [
    ["deno fmt --check", ["fmt", "--check"]],
    ["deno lint", ["lint"]],
    ["deno check", [
      "check",
      "mod.ts",
      "redis.ts",
      "src/redis/worker.ts",
      ...testFiles(join(root, "tests"), ".ts"), // tests/consumers/*.mjs are Node's
      "examples/",
      "bench/",
    ]],
    ["deno doc --lint", ["doc", "--lint", "mod.ts", "redis.ts"]],
    ["deno publish --dry-run", ["publish", "--dry-run", "--allow-dirty"]],
  ];
  console.log("\n=== static checks");
  let passed = 0;
  let failed = 0;
  const failing = [];
  for (const [name, args] of checks) {
    try {
      execFileSync(bin.deno, args, {
        cwd: root,
        stdio: "pipe",
        env: { ...process.env, NO_COLOR: "1" },
      });
      console.log(`ok   ${name}`);
      passed++;
    } catch (error) {
      console.log(`FAIL ${name}\n${error.stdout}${error.stderr}`);
      failing.push(name);
      failed++;
    }
  }
  // The CI workflow, parsed with a real YAML parser (a devDependency).
  try {
    const problems = checkWorkflow(await import("yaml"), LABELS);
    if (problems.length) throw new Error(problems.join("\n"));
    console.log(`ok   ${WORKFLOW}`);
    passed++;
  } catch (error) {
    console.log(`FAIL ${WORKFLOW}\n${error.message}`);
    failing.push(WORKFLOW);
    failed++;
  }
  // The publish workflow: tags only, OIDC, the suite before publishing.
  try {
    const problems = checkPublish(await import("yaml"));
    if (problems.length) throw new Error(problems.join("\n"));
    console.log(`ok   ${PUBLISH}`);
    passed++;
  } catch (error) {
    console.log(`FAIL ${PUBLISH}\n${error.message}`);
    failing.push(PUBLISH);
    failed++;
  }
  return {
    label: "static checks",
    code: failed ? 1 : 0,
    signal: null,
    passed,
    failed,
    failing,
  };
}

const results = [];
if (wanted("static")) results.push(await staticChecks());
for (const [label, kind, command, args] of suites) {
  if (typeof args !== "function") {
    results.push(await runSuite(label, kind, command, args));
    continue;
  }
  const lane = await args();
  try {
    results.push(await runSuite(label, kind, command, lane.args, lane.env));
  } finally {
    await lane.cleanup();
  }
}
if (wanted("consumers")) results.push(runConsumers(bin));

console.log("\n=== summary");
let passed = 0;
let failed = 0;
let bad = false;
for (const r of results) {
  const ran = Number.isFinite(r.passed) && r.passed + (r.failed || 0) > 0;
  const ok = r.code === 0 && ran && r.failed === 0;
  if (!ok) bad = true;
  passed += Number.isFinite(r.passed) ? r.passed : 0;
  failed += Number.isFinite(r.failed) ? r.failed : 0;
  if (r.code !== 0 && !(r.failed > 0)) failed += 1; // a crash or hang counts as a failure
  const why = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  console.log(
    `${ok ? "ok  " : "FAIL"} ${
      r.label.padEnd(22)
    } ${r.passed} passed, ${r.failed} failed${
      r.skipped ? `, ${r.skipped} skipped` : ""
    } (${why})${ran ? "" : ", ran no test"}`,
  );
  for (const name of r.failing ?? []) console.log(`       ✖ ${name}`);
}
if (results.length === 0) bad = true;
console.log(`${passed} passed, ${failed} failed`);
process.exit(bad ? 1 : 0);

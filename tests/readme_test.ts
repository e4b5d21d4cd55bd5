// The docs' TypeScript blocks (```ts / ```typescript, with or without
// `ignore` after it) run as written, each as its own program on the runtime
// running the tests, with a time bound: those of README.md and the docs/
// pages (DOCS), and the @example blocks of the JSDoc of every module the
// package's exports reach (mod.ts, redis.ts, src/; the JSDoc's leading ` * `
// taken off). A block must exit 0 and print what its
// `console.log(...); // <output>` lines say (on Deno every block is
// type-checked first, all in one `deno check`). A test is named after the
// block's file and the line of its first code line, e.g. `src/shapes/map.ts:501`.
// The docs' relative links must reach a file, and their #anchors a heading.
//
// The one marker of expected output: `console.log(x); // <output>`, where
// <output> is the line that call prints (spaces inside brackets and quotes
// aside: `// [1, "a"]` is Node's `[ 1, 'a' ]`). Such lines must print, in
// this order, each a line of its own; a comment that is not the output goes
// on a line of its own. A call in a loop says one line: collect what the
// loop gives and print that once instead.
//
// Only what a block leaves to the reader is stood in for, always the same way:
// - its imports of the package (`@workq/workq`, `@workq/workq/redis`, any
//   export of deno.json) load this form of the sources (the .ts files, the
//   emitted .js, or the files over http in the "deno (http)" lane);
// - a Redis URL ("redis://..." or "rediss://...") is a private redis-server
//   on loopback (tests/redis/_server.ts);
// - the rest is said by an HTML comment on the line before the block, one
//   or more `key value` separated by ";":
//     <!-- test: runtimes deno node -->   only there (deno, bun, node)
//     <!-- test: stand-ins map.ts -->      appends tests/fixtures/readme/map.ts
//                                          (the names the block leaves undefined;
//                                          after the block, so lines stay)
//     <!-- test: module ./crawl.ts crawl.ts -->
//                                          the string "./crawl.ts" in the block
//                                          (any quotes, a template literal
//                                          too) is tests/fixtures/readme/crawl.ts
//     <!-- test: workers 2 --queue q --module tasks.ts --export sum -->
//                                          2 Redis worker processes (the
//                                          package's redis/worker export, with
//                                          --url of the block's Redis) run
//                                          beside the block and must exit 0;
//                                          --module names a fixture as above
//     <!-- test: split 2 1 -->             several programs in one block: each
//                                          comment-only line after a blank line
//                                          starts one (what comes before the
//                                          first is shared by all); the first
//                                          runs in 2 processes, the second in 1,
//                                          all at once, and each must exit 0
//     <!-- test: skip <reason> -->         not run; reported as skipped with it
//   In JSDoc the comment is the line before the fence inside the comment:
//     * <!-- test: workers 2 --queue sum-in -->
//     * ```ts ignore
//   (the docs render no HTML comment, and `ignore` keeps `deno test --doc`
//   off blocks that need a Redis server or a worker fixture).
//   A block that uses Redis starts on an empty server (FLUSHALL before it).
//   Blocks of a doc without such a comment yet take theirs from UNMARKED.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ext, here, importFlags, overHttp, runScript } from "./_helpers.ts";
import {
  type Child,
  type RedisServer,
  startRedis,
  startScript,
  within,
} from "./redis/_server.ts";

/** The Markdown docs whose blocks run, relative to the repository. */
const DOCS = [
  "README.md",
  "docs/shapes.md",
  "docs/reliability.md",
  "docs/redis.md",
  "docs/performance.md",
  "docs/runtimes.md",
  "docs/design.md",
  "docs/contributing.md",
  "docs/from_python.md",
  "docs/from_pools.md",
  "docs/security.md",
  "docs/bundlers.md",
];

/**
 * Directives for blocks whose doc has no `<!-- test: -->` comment before
 * them yet, keyed by a line of the block. Move each into its doc.
 */
const UNMARKED: Record<string, string> = {};

const BLOCK_MS = 60_000;
const runtimeName = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";
// The docs are in the repository (above dist/ in the emitted form); the
// package is this form of it, beside the tests.
const repo = new URL(ext === ".js" ? "../../" : "../", import.meta.url);
const pkg = here("../mod.ts");

async function readText(url: URL): Promise<string> {
  const text = await readIfThere(url);
  if (text === undefined) throw new Error(`${url}: no such file`);
  return text;
}

/** A file's text, or undefined when there is none. */
async function readIfThere(url: URL): Promise<string | undefined> {
  if (url.protocol === "file:") {
    const path = fileURLToPath(url);
    return existsSync(path) ? readFileSync(path, "utf8") : undefined;
  }
  const response = await fetch(url);
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return await response.text();
}

interface Block {
  doc: string;
  /** The line of the block's first code line in its doc. */
  line: number;
  code: string;
  directives: Map<string, string>;
}

function parseDirectives(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(";")) {
    const m = /^\s*(\S+)\s*(.*?)\s*$/.exec(part);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

function blocksOf(doc: string, text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)(\s+\S.*)?\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const code = lines.slice(start, end);
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === "") before--;
    const comment = before >= 0
      ? /^<!--\s*test:(.*)-->\s*$/.exec(lines[before].trim())
      : null;
    const unmarked = Object.entries(UNMARKED).find(([key]) =>
      code.some((l) => l.trim() === key)
    );
    blocks.push({
      doc,
      line: start + 1,
      code: code.join("\n"),
      directives: parseDirectives(comment?.[1] ?? unmarked?.[1] ?? ""),
    });
    i = end;
  }
  return blocks;
}

/**
 * The text of a module's JSDoc comments, line for line (every other line
 * blank, so that a block's line is the module's): their leading ` * ` off.
 */
function jsdocLines(text: string): string {
  let inside = false;
  return text.split("\n").map((line) => {
    if (!inside && /^\s*\/\*\*/.test(line)) {
      inside = !line.includes("*/");
      return "";
    }
    if (!inside) return "";
    if (/\*\//.test(line)) {
      inside = false;
      return "";
    }
    return line.replace(/^\s*\* ?/, "");
  }).join("\n");
}

/** How many @example tags a module's JSDoc has. */
function examplesIn(text: string): number {
  return jsdocLines(text).split("\n").filter((l) => /^@example\b/.test(l))
    .length;
}

/**
 * The package's modules, relative to the repository: what its exports
 * reach by static relative imports (over http too, where no folder can be
 * listed).
 */
async function packageModules(roots: string[]): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  const queue = [...roots];
  while (queue.length) {
    const path = queue.shift()!;
    if (texts.has(path)) continue;
    const text = await readText(new URL(path, repo));
    texts.set(path, text);
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "");
    for (const m of code.matchAll(/(?:from|import)\s*"(\.\.?\/[^"]+\.ts)"/g)) {
      queue.push(
        new URL(m[1], new URL(path, repo)).href.slice(repo.href.length),
      );
    }
  }
  return texts;
}

/** What the block's `console.log(...); // <output>` lines say it prints. */
function expectedOutput(code: string): string[] {
  return [...code.matchAll(/console\.log\(.*\);\s*\/\/\s*(.+?)\s*$/gm)]
    .map((m) => m[1]);
}

const deno = JSON.parse(await readText(new URL("deno.json", repo))) as {
  name: string;
  exports: Record<string, string>;
};
// The package's import specifiers, longest first ("@workq/workq/redis" before "@workq/workq").
const specifiers = Object.entries(deno.exports)
  .map(([key, path]) => [
    deno.name + key.slice(1),
    new URL(path.replace(/\.ts$/, ext), pkg).href,
  ])
  .sort((a, b) => b[0].length - a[0].length);

let redis: Promise<RedisServer> | undefined;
let started: RedisServer | undefined;
/** The blocks' one redis-server, started on first use. */
function redisServer(): Promise<RedisServer> {
  return redis ??= startRedis().then((server) => (started = server));
}
const scratch = mkdtempSync(join(tmpdir(), "workq-readme-"));
// Node runs the blocks' TypeScript as ES modules.
writeFileSync(
  join(scratch, "package.json"),
  JSON.stringify({ type: "module" }),
);
after(async () => {
  if (redis) await (await redis).stop();
  rmSync(scratch, { recursive: true, force: true });
});
// Also when a failure ends the run before `after` (seen on Deno).
process.on("exit", () => {
  started?.child.kill("SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * A block's program, but for its Redis URLs (what `deno check` needs):
 * package imports, `module` fixtures and stand-ins in place.
 */
async function program(block: Block): Promise<string> {
  let code = block.code;
  for (const [name, url] of specifiers) {
    code = code.replaceAll(`"${name}"`, JSON.stringify(url));
  }
  const module = block.directives.get("module");
  if (module) {
    const [literal, fixture] = module.split(/\s+/);
    const url = JSON.stringify(here(`./fixtures/readme/${fixture}`).href);
    for (const quote of ['"', "'", "`"]) {
      code = code.replaceAll(quote + literal + quote, url);
    }
  }
  const standIns = block.directives.get("stand-ins");
  if (standIns) {
    code += `\n${await readText(
      new URL(`tests/fixtures/readme/${standIns}`, repo),
    )}`;
  }
  return code;
}

/** Empties the server (FLUSHALL), so that a block starts as it would alone. */
function flushAll(server: RedisServer): Promise<void> {
  return within(
    10_000,
    `FLUSHALL on ${server.url}`,
    new Promise<void>((resolve, reject) => {
      const socket = createConnection(server.port, "127.0.0.1");
      let reply = "";
      socket.on("error", reject);
      socket.on("data", (chunk) => {
        reply += chunk;
        if (!reply.endsWith("\r\n")) return;
        socket.destroy();
        if (reply.startsWith("+OK")) resolve();
        else reject(new Error(`FLUSHALL: ${reply.trim()}`));
      });
      socket.write("*1\r\n$8\r\nFLUSHALL\r\n");
    }),
  );
}

/** Starts the Redis worker processes a `workers` directive asks for. */
async function startWorkers(block: Block): Promise<Child[]> {
  const spec = block.directives.get("workers");
  if (!spec) return [];
  const [count, ...args] = spec.split(/\s+/);
  const at = args.indexOf("--module");
  if (at >= 0) args[at + 1] = here(`./fixtures/readme/${args[at + 1]}`).href;
  const server = await redisServer();
  const cli = here(
    "../" + deno.exports["./redis/worker"].replace(/^\.\//, ""),
  );
  return Array.from(
    { length: Number(count) },
    () => startScript(cli, ["--url", server.url, ...args]),
  );
}

/** What `deno run` and `deno check` of a block both need. */
const denoCheckFlags = [
  // npm: packages from Deno's cache, as the repository's deno.json says (the
  // scratch package.json would make Deno look in a node_modules/).
  "--node-modules-dir=none",
  ...(overHttp
    ? importFlags(pkg)
    : [`--import-map=${fileURLToPath(new URL("deno.json", repo))}`]),
];
// No --check: checkAll has type-checked every block, as the reader's editor
// or `deno check` sees it.
const denoFlags = [
  "--allow-read",
  "--allow-env",
  "--allow-net",
  ...denoCheckFlags,
];

/**
 * The programs of a block and how many processes run each: one, or the
 * parts of a `split` block, each with the other parts' lines blanked (so
 * that line numbers stay the doc's).
 */
function programs(block: Block, code: string): [string, number][] {
  const split = block.directives.get("split");
  if (!split) return [[code, 1]];
  const counts = split.split(/\s+/).map(Number);
  const lines = code.split("\n");
  const ownLines = block.code.split("\n").length;
  const starts: number[] = [];
  for (let i = 0; i < ownLines; i++) {
    if (/^\/\/ /.test(lines[i]) && (i === 0 || lines[i - 1].trim() === "")) {
      starts.push(i);
    }
  }
  if (starts.length !== counts.length) {
    throw new Error(
      `${block.doc}:${block.line}: split ${split} names ${counts.length} programs, the block has ${starts.length}`,
    );
  }
  return starts.map((start, p) => {
    const end = starts[p + 1] ?? ownLines;
    const kept = lines.map((line, i) =>
      i < starts[0] || i >= ownLines || (i >= start && i < end) ? line : ""
    );
    return [kept.join("\n"), counts[p]];
  });
}

const modules = await packageModules(
  Object.values(deno.exports).map((path) => path.replace(/^\.\//, "")),
);
const docs: [string, string][] = [];
for (const doc of DOCS) {
  const text = await readIfThere(new URL(doc, repo));
  if (text !== undefined) docs.push([doc, text]);
  else throw new Error(`${doc} (in DOCS): no such file`);
}
const markdown = docs.length;
for (const [path, text] of modules) docs.push([path, jsdocLines(text)]);
const jsdocBlocks = docs.slice(markdown).flatMap(([doc, text]) =>
  blocksOf(doc, text)
);

test("every @example of the package's JSDoc is a block that runs here", () => {
  const tags = [...modules.values()].reduce((n, t) => n + examplesIn(t), 0);
  const skipped = jsdocBlocks.filter((b) => b.directives.has("skip"));
  console.log(
    `${jsdocBlocks.length} JSDoc examples in ${modules.size} modules: ${
      jsdocBlocks.length - skipped.length
    } run, ${skipped.length} skipped (${
      skipped.map((b) => `${b.doc}:${b.line}`).join(", ") || "none"
    })`,
  );
  assert.equal(jsdocBlocks.length, tags, "one ```ts block per @example");
});

test("the package's modules are every module of src/ with an @example", {
  skip: repo.protocol !== "file:" && "no folder to list over http",
}, () => {
  const all = readdirSync(fileURLToPath(new URL("src/", repo)), {
    recursive: true,
  }).map((f) => `src/${String(f).replaceAll("\\", "/")}`)
    .filter((f) => f.endsWith(".ts"));
  const withExamples = all.filter((f) =>
    examplesIn(readFileSync(fileURLToPath(new URL(f, repo)), "utf8")) > 0
  );
  assert.deepEqual(withExamples.filter((f) => !modules.has(f)), []);
});

/** The text outside a Markdown doc's fenced blocks. */
function prose(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```\s*$/gm, "");
}

/** The #anchors of a Markdown doc's headings, as GitHub makes them. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1].toLowerCase().replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

test("the docs' relative links reach a file, and their #anchors a heading", async () => {
  const broken: string[] = [];
  for (const [doc, text] of docs.slice(0, markdown)) {
    for (const m of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [path, anchor] = target.split("#");
      // "#anchor" alone is a heading of this doc.
      const url = path ? new URL(path, new URL(doc, repo)) : new URL(doc, repo);
      if (path.endsWith("/")) {
        // A folder: only where folders can be seen.
        if (url.protocol === "file:" && !existsSync(fileURLToPath(url))) {
          broken.push(`${doc}: ${target} (no such folder)`);
        }
        continue;
      }
      const body = await readIfThere(url);
      if (body === undefined) broken.push(`${doc}: ${target} (no such file)`);
      else if (anchor && !anchorsOf(body).has(anchor)) {
        broken.push(`${doc}: ${target} (no heading #${anchor} there)`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test("every page of docs/ is in DOCS and linked from the README", {
  skip: repo.protocol !== "file:" && "no folder to list over http",
}, () => {
  const pages = readdirSync(fileURLToPath(new URL("docs/", repo)))
    .filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`);
  assert.deepEqual(pages.filter((p) => !DOCS.includes(p)), [], "not in DOCS");
  const readme = docs.find(([d]) => d === "README.md")![1];
  assert.deepEqual(
    pages.filter((p) => !readme.includes(`](${p})`)),
    [],
    "not linked from README.md",
  );
});

/**
 * Writes a block's programs to the scratch folder; one URL per process.
 * With `redis`, its Redis URLs are the blocks' server, emptied first.
 */
async function prepare(block: Block, redis = true): Promise<URL[]> {
  const name = `${block.doc.replace(/\W/g, "_")}_${block.line}`;
  let code = await program(block);
  if (redis && /"rediss?:\/\/[^"]*"/.test(code)) {
    const server = await redisServer();
    await flushAll(server);
    code = code.replace(/"rediss?:\/\/[^"]*"/g, JSON.stringify(server.url));
  }
  // A program's line N is the doc's line block.line + N - 1.
  return programs(block, code).flatMap(([code, count], p) => {
    const file = join(scratch, `${name}_${p + 1}.ts`);
    writeFileSync(file, code);
    return Array.from({ length: count }, () => pathToFileURL(file));
  });
}

/**
 * On Deno, type-checks the programs of every block that runs here in ONE
 * `deno check` (each `deno run --check` took a type check of its own, most
 * of the lane's time) and resolves with each program file's errors; a
 * failure no file is named in counts against every block. Elsewhere, no
 * check.
 */
function checkAll(blocks: Block[]): Promise<Map<string, string>> {
  if (runtimeName !== "deno") return Promise.resolve(new Map());
  return (async () => {
    const files = new Set<string>();
    for (const block of blocks) {
      for (const url of await prepare(block, false)) {
        files.add(fileURLToPath(url));
      }
    }
    const { code, stdout, stderr } = await runCommand(
      // --quiet: no "Check <file>" lines around the errors.
      ["check", "--quiet", ...denoCheckFlags, ...files],
    );
    const errors = new Map<string, string>();
    if (code === 0) return errors;
    const output = `${stdout}${stderr}`;
    // One error per paragraph, naming the file it is in.
    for (const chunk of output.split(/\n\s*\n/)) {
      for (const file of files) {
        if (!chunk.includes(pathToFileURL(file).href)) continue;
        errors.set(file, `${errors.get(file) ?? ""}${chunk.trim()}\n\n`);
      }
    }
    if (errors.size === 0) {
      for (const file of files) errors.set(file, output);
    }
    return errors;
  })();
}

/** Runs this runtime's executable (deno) with `args`; its exit code and output. */
function runCommand(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: scratch,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A block's type errors as its test's failure. */
function typeError(block: Block, errors: string): Error {
  return new Error(
    `${block.doc}:${block.line} does not type-check (its line N is the doc's line ${
      block.line - 1
    } + N):\n${errors}`,
  );
}

/** The errors `deno check` found in a block's program files (its URLs), if any. */
async function typeErrors(urls: URL[]): Promise<string> {
  const errors = await checked;
  if (errors.has("")) return errors.get("")!;
  return [...new Set(urls.map((u) => fileURLToPath(u)))]
    .map((file) => errors.get(file) ?? "").join("");
}

type Run = Awaited<ReturnType<typeof runScript>>;

/** Runs the processes all at once, each within BLOCK_MS. */
function runAll(urls: URL[]): Promise<Run[]> {
  return Promise.all(
    urls.map((url) =>
      runScript(url, [], BLOCK_MS, { cwd: scratch, denoFlags })
    ),
  );
}

// The blocks that need no Redis run ahead of their tests, AHEAD at a time
// (about 60 blocks, each a runtime start and on Deno a type check, would
// take minutes one by one); a test waits for its own block's run. The Redis
// blocks run in their tests, one at a time, as they share one server.
// Over http none runs ahead: Deno processes that fetch the same modules
// at once were seen to fail (exit code 10, no message).
const AHEAD = 2;
let running = 0;
const waiting: (() => void)[] = [];
async function bounded<T>(fn: () => Promise<T>): Promise<T> {
  while (running >= AHEAD) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

let blocksRun = 0;
let blocksSkipped = 0;
after(() => {
  console.log(
    `docs blocks on ${runtimeName}: ${blocksRun} run, ${blocksSkipped} skipped`,
  );
});

/** Why a block does not run here, or false. */
function skipOf(block: Block): string | false {
  const runtimes = block.directives.get("runtimes")?.split(/[\s,]+/);
  return block.directives.has("skip")
    ? block.directives.get("skip") || "skipped without a reason"
    : runtimes && !runtimes.includes(runtimeName)
    ? `for ${runtimes.join(", ")} only`
    : false;
}

const allBlocks = docs.flatMap(([doc, text]) => blocksOf(doc, text));
// Settled, so that a failed check fails the blocks, not the run.
const checked = checkAll(allBlocks.filter((b) => !skipOf(b))).catch(
  (error: unknown) => new Map([["", `deno check did not run: ${error}`]]),
);

for (const block of allBlocks) {
  const doc = block.doc;
  {
    const skip = skipOf(block);
    const alone = !skip && !overHttp && !block.directives.has("workers") &&
      !/"rediss?:\/\//.test(block.code);
    // Settled, so that a failure waits for its test without being unhandled.
    const ahead = alone
      ? bounded(async () => {
        await checked; // which reads the files prepare writes
        const urls = await prepare(block);
        const errors = await typeErrors(urls);
        return errors ? Promise.reject(typeError(block, errors)) : runAll(urls);
      }).then(
        (runs) => ({ runs }),
        (error: unknown) => ({ error }),
      )
      : undefined;
    if (skip) blocksSkipped++;
    test(`${doc}:${block.line}: the block runs as written`, {
      skip,
    }, async () => {
      blocksRun++;
      let workers: Child[] = [];
      try {
        let results: Run[];
        if (ahead) {
          const done = await ahead;
          if ("error" in done) throw done.error;
          results = done.runs;
        } else {
          await checked; // which reads the files prepare writes
          const urls = await prepare(block);
          const errors = await typeErrors(urls);
          if (errors) throw typeError(block, errors);
          workers = await startWorkers(block);
          results = await runAll(urls);
        }
        const stdout = results.map((r) => r.stdout).join("");
        const stderr = results.map((r) => r.stderr).join("");
        const where = `${doc}:${block.line} (its line N is the doc's line ${
          block.line - 1
        } + N)\nstdout:\n${stdout}\nstderr:\n${stderr}`;
        for (const { code } of results) {
          assert.equal(code, 0, `exit code ${code}: ${where}`);
        }
        checkOutput(block, stdout, where);
        for (const [i, w] of workers.entries()) {
          const exit = await within(
            BLOCK_MS,
            `worker ${i + 1} beside ${doc}:${block.line} (stderr: ${w.stderr})`,
            w.exit,
          );
          assert.equal(exit, 0, `worker ${i + 1} beside ${where}: ${w.stderr}`);
        }
      } finally {
        for (const w of workers) w.child.kill("SIGKILL");
      }
    });
  }
}

/** The block printed, in order, what its `// <output>` comments say. */
function checkOutput(block: Block, stdout: string, where: string): void {
  const printed = stdout.split("\n").map((l) => l.trim());
  let at = 0;
  for (const want of expectedOutput(block.code)) {
    const found = printed.findIndex((l, i) => i >= at && sameOutput(l, want));
    assert.ok(found >= 0, `it should print ${want}: ${where}`);
    at = found + 1;
  }
}

/** Whether a printed line is what a comment says, quotes and spaces inside brackets aside. */
function sameOutput(printed: string, want: string): boolean {
  const plain = (text: string) =>
    text.replace(/["']/g, "").replace(/([[{(])\s+/g, "$1")
      .replace(/\s+([\]})])/g, "$1");
  return printed === want || plain(printed) === plain(want);
}

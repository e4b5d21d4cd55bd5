// The docs' TypeScript blocks (```ts / ```typescript, with or without
// `ignore` after it) run as written, each as its own program on the runtime
// running the tests, with a time bound: README.md's, and the @example blocks
// of the JSDoc of every module the package's exports reach (mod.ts, redis.ts,
// src/; the JSDoc's leading ` * ` taken off). A block must exit 0 and print
// what its `console.log(...); // <output>` lines say (on Deno it is
// type-checked first). A test is named after the block's file and the line
// of its first code line, e.g. `src/map.ts:501`.
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
//                                          is tests/fixtures/readme/crawl.ts
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
import {
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
const DOCS = ["README.md"];

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
  if (url.protocol === "file:") return readFileSync(fileURLToPath(url), "utf8");
  const response = await fetch(url);
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

async function program(block: Block): Promise<string> {
  let code = block.code;
  for (const [name, url] of specifiers) {
    code = code.replaceAll(`"${name}"`, JSON.stringify(url));
  }
  if (/"rediss?:\/\/[^"]*"/.test(code)) {
    const server = await redisServer();
    await flushAll(server);
    code = code.replace(/"rediss?:\/\/[^"]*"/g, JSON.stringify(server.url));
  }
  const module = block.directives.get("module");
  if (module) {
    const [literal, fixture] = module.split(/\s+/);
    const url = here(`./fixtures/readme/${fixture}`).href;
    code = code.replaceAll(JSON.stringify(literal), JSON.stringify(url));
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

const denoFlags = [
  "--allow-read",
  "--allow-env",
  "--allow-net",
  // npm: packages from Deno's cache, as the repository's deno.json says (the
  // scratch package.json would make Deno look in a node_modules/).
  "--node-modules-dir=none",
  // Type-checked too, as the reader's editor or `deno check` sees the block.
  "--check",
  ...(overHttp
    ? importFlags(pkg)
    : [`--import-map=${fileURLToPath(new URL("deno.json", repo))}`]),
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
for (const doc of DOCS) docs.push([doc, await readText(new URL(doc, repo))]);
for (const [path, text] of modules) docs.push([path, jsdocLines(text)]);
const jsdocBlocks = docs.slice(DOCS.length).flatMap(([doc, text]) =>
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

/** Writes a block's programs to the scratch folder; one URL per process. */
async function prepare(block: Block): Promise<URL[]> {
  const name = `${block.doc.replace(/\W/g, "_")}_${block.line}`;
  // A program's line N is the doc's line block.line + N - 1.
  return programs(block, await program(block)).flatMap(([code, count], p) => {
    const file = join(scratch, `${name}_${p + 1}.ts`);
    writeFileSync(file, code);
    return Array.from({ length: count }, () => pathToFileURL(file));
  });
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
// Over http none runs ahead: Deno processes that --reload the same modules
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

for (const [doc, text] of docs) {
  for (const block of blocksOf(doc, text)) {
    const runtimes = block.directives.get("runtimes")?.split(/[\s,]+/);
    const skip = block.directives.has("skip")
      ? block.directives.get("skip") || "skipped without a reason"
      : runtimes && !runtimes.includes(runtimeName)
      ? `for ${runtimes.join(", ")} only`
      : false;
    const alone = !skip && !overHttp && !block.directives.has("workers") &&
      !/"rediss?:\/\//.test(block.code);
    // Settled, so that a failure waits for its test without being unhandled.
    const ahead = alone
      ? bounded(async () => runAll(await prepare(block))).then(
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
          const urls = await prepare(block);
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

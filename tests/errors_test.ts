// Error messages that point at the user's code, not at workq's internals: a
// missing task module names the task() call; the Redis worker command keeps
// the task error's class; a missing Deno flag is named; a Queue or a Msg
// from another copy of workq is named as such.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { endq, Msg, Queue, run, task } from "../mod.ts";
import { ext, here, overHttp, runScript } from "./_helpers.ts";
import {
  type RedisServer,
  startRedis,
  startScript,
  within,
} from "./redis/_server.ts";

const tasks = here("./fixtures/errors/tasks.ts");
type Tasks = typeof import("./fixtures/errors/tasks.ts");
const isDeno = "Deno" in globalThis;

function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => assert.fail("expected a rejection"),
    (e) => e as Error,
  );
}

// Where in this file a line of it sits, as a stack frame names it (a URL,
// or a path on Bun).
const thisFile = /errors_test\.[jt]s:\d+:\d+/;

test("a missing task module names the task() call's URL and where task() was called", async () => {
  const missing = here("./fixtures/errors/no_such_module.ts");
  const error = await failure(run(task(missing, "x")).result);
  assert.match(error.message, /Cannot run task "x"/);
  assert.ok(error.message.includes(missing.href), error.message);
  assert.match(error.message, /task\(\) at /);
  assert.match(error.message, thisFile);
  assert.doesNotMatch(error.message, /worker[\\/]load/, "no internal path");
  assert.equal(
    (error as Error & { code?: string }).code,
    "ERR_MODULE_NOT_FOUND",
  );
  assert.ok(error.cause, "the runtime's own error is kept as the cause");
});

test("a missing export names where task() was called", async () => {
  const error = await failure(run(task(tasks, "nope")).result);
  assert.match(error.message, /no exported function "nope"/);
  assert.match(error.message, thisFile);
});

test("a task module that imports a missing module is not called missing itself", async () => {
  const error = await failure(
    run(task(here("./fixtures/errors/imports_missing.ts"), "never")).result,
  );
  assert.match(error.message, /no_such_dependency/);
  assert.doesNotMatch(error.message, /imports_missing\.[jt]s does not exist/);
});

// What a child wrote on stderr, without Deno's lines about modules it
// fetched (over http).
function ownLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "" && !/^Download /.test(l));
}

let server: RedisServer;
before(async () => {
  server = await startRedis();
});
let copyDir: string | undefined;
after(async () => {
  await server?.stop();
  if (copyDir) rmSync(copyDir, { recursive: true, force: true });
});

test("the Redis worker command keeps the task error's class on its stderr line", async () => {
  const name = `errors-class-${process.pid}`;
  const { closeQueue, redisQueue } = await import("../redis.ts");
  const q = await redisQueue<number>(server.url, name);
  try {
    await q.put(7);
    const worker = startScript(here("../src/redis/worker.ts"), [
      "--url",
      server.url,
      "--queue",
      name,
      "--module",
      here("./fixtures/errors/redis_tasks.ts").href,
      "--export",
      "outOfRange",
    ]);
    assert.equal(await within(20_000, "worker's exit", worker.exit), 1);
    assert.deepEqual(ownLines(worker.stderr), [
      'workq redis worker: task "outOfRange" threw RangeError: item 7 is out of range',
    ]);
  } finally {
    await closeQueue(q);
  }
});

test(
  "Deno without read access to a task module: the error names the task, its URL, the flag and the task() call",
  {
    skip: (!isDeno && "Deno's permissions") ||
      (overHttp && "over http the task module is not read from disk"),
  },
  async () => {
    const src = fileURLToPath(new URL(`../src/`, import.meta.url));
    const { stdout, stderr } = await runScript(
      here("./fixtures/errors/unreadable.ts"),
      [],
      30_000,
      { denoFlags: [`--allow-read=${src}`] },
    );
    const line = stdout.split("\n").find((l) => l.startsWith("caught:"));
    assert.ok(line, stdout + stderr);
    assert.match(line, /Cannot run task "double"/);
    assert.ok(line.includes(tasks.href), line);
    assert.match(line, /run again with --allow-read/);
    assert.match(line, /task\(\) at .*unreadable\.ts:5:\d+/);
  },
);

for (
  const [flags, wanted] of [
    [["--allow-net"], "--allow-env"],
    [["--allow-env"], "--allow-net"],
  ] as const
) {
  test(
    `Deno with ${
      flags[0]
    } only: redisQueue() rejects naming ${wanted}; the program goes on`,
    {
      skip: !isDeno && "Deno's permissions",
    },
    async () => {
      const { code, stdout, stderr } = await runScript(
        here("./fixtures/errors/redis_flags.ts"),
        [server.url],
        30_000,
        { denoFlags: ["--allow-read", ...flags] },
      );
      assert.equal(code, 0, stderr);
      assert.match(
        stdout,
        new RegExp(`^caught: .*run again with (the )?${wanted}`, "m"),
      );
    },
  );
}

test("Deno without --allow-env: the Redis worker command says so in one line", {
  skip: !isDeno && "Deno's permissions",
}, async () => {
  const { code, stderr } = await runScript(
    here("../src/redis/worker.ts"),
    [
      "--url",
      server.url,
      "--queue",
      "never-read",
      "--module",
      tasks.href,
      "--export",
      "double",
    ],
    30_000,
    { denoFlags: ["--allow-read", "--allow-net"] },
  );
  assert.equal(code, 1);
  const lines = ownLines(stderr);
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], /^workq redis worker: .*run again with --allow-env$/);
});

// Another copy of workq, at another URL: a copy of the tree in a temporary
// directory; over http, the tree on disk (the tests loaded workq by http:).
function otherCopy(): string {
  if (overHttp) return pathToFileURL(join(process.cwd(), "mod.ts")).href;
  const root = fileURLToPath(new URL("../", import.meta.url));
  copyDir = mkdtempSync(join(tmpdir(), "workq-copy-"));
  cpSync(join(root, "src"), join(copyDir, "src"), { recursive: true });
  cpSync(join(root, `mod${ext}`), join(copyDir, `mod${ext}`));
  writeFileSync(join(copyDir, "package.json"), `{ "type": "module" }\n`);
  return pathToFileURL(join(copyDir, `mod${ext}`)).href;
}
let other: string | undefined;
const copy = () => other ??= otherCopy();

function namesTheCopies(message: string, url: string): void {
  assert.match(message, /another copy of workq/);
  assert.ok(message.includes(new URL("./", url).href), message);
  assert.ok(message.includes(new URL("../", import.meta.url).href), message);
  assert.match(message, /import workq from the same URL/);
}

test("a Queue, a Msg or a worker handle handed to another copy of workq is named as such", async () => {
  const url = copy();
  const workq = await import(url);
  const q = new Queue<number>();
  assert.throws(
    () => workq.iterMsg(q),
    (e: Error) => (namesTheCopies(e.message, url), e instanceof TypeError),
  );
  const theirs = new workq.Queue();
  const error = await failure(theirs.put(new Msg({ data: 1 })));
  assert.ok(error instanceof TypeError, String(error));
  namesTheCopies(error.message, url);
  assert.match(error.message, /a Msg from another copy/);
  const handle = run(() => 1);
  await handle;
  await assert.rejects(
    workq.endqAndWait(theirs, handle),
    (
      e: Error,
    ) => (namesTheCopies(e.message, url), /a WorkerHandle/.test(e.message)),
  );
});

test("a task module that imports workq from another URL names the two copies when it reads the parent's queue", async () => {
  const url = copy();
  const q = new Queue<number>();
  await q.put(1);
  await endq(q);
  const error = await failure(
    run(task<Tasks, "drainWith">(tasks, "drainWith"), url, q).result,
  );
  assert.ok(error instanceof TypeError, String(error));
  assert.match(error.message, /a Queue from another copy of workq/);
  namesTheCopies(error.message, url);
});

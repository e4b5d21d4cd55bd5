// Facts the design relies on: imports go down (no import cycle in src/, and
// nothing in src/ imports the package's entry, mod.ts), and a worker revives
// queues whatever its task imports.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Queue, run, task } from "../mod.ts";
import { ext, here, overHttp, runScript } from "./_helpers.ts";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory()
      ? sources(path)
      : name.endsWith(".ts")
      ? [path]
      : [];
  });
}

test("no module of src/ imports mod.ts", {
  skip: overHttp && "lists src/ on disk",
}, () => {
  // The .ts sources, also when the tests run in their emitted .js form.
  const src = fileURLToPath(
    new URL(ext === ".ts" ? "../src/" : "../../src/", import.meta.url),
  );
  const offenders = sources(src).filter((file) =>
    /\bfrom\s+["'](\.\.\/)+mod\.ts["']|import\(\s*["'](\.\.\/)+mod\.ts["']/
      .test(
        readFileSync(file, "utf8"),
      )
  );
  assert.deepEqual(offenders, []);
});

test(
  "no module of src/ but the Redis transport and Deno's host imports a node: module at run time",
  {
    skip: overHttp && "lists src/ on disk",
  },
  () => {
    // A bundler building for browsers follows every import of the core, the
    // lazy one of runtime/node.ts too: `import type` is erased, the rest stays.
    const src = fileURLToPath(
      new URL(ext === ".ts" ? "../src/" : "../../src/", import.meta.url),
    );
    const allowed = [join("src", "redis"), join("runtime", "deno_host.ts")];
    const offenders = sources(src).filter((file) =>
      !allowed.some((part) => file.includes(part)) &&
      /^\s*import\s+(?!type\b)[^;]*?["']node:|import\(\s*["']node:/m.test(
        readFileSync(file, "utf8"),
      )
    );
    assert.deepEqual(offenders, []);
  },
);

test(
  "src/ has no import cycle: scripts/graph.mjs draws it in layers, every arrow down",
  {
    skip: overHttp && "reads src/ on disk",
  },
  async () => {
    const graph = new URL(
      ext === ".ts" ? "../scripts/graph.mjs" : "../../scripts/graph.mjs",
      import.meta.url,
    );
    const out = await runScript(graph, [], 60_000);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /no cycle: every arrow points to a lower layer/);
    // The layers it draws put the public entry above every module of src/.
    assert.match(
      out.stdout,
      /^layer \d+\n(.*\n)*? {2}mod\.ts {2}-> src\/exports\.ts$/m,
    );
  },
);

test("a task module that imports nothing of workq still gets a live queue", async () => {
  const q = new Queue<number>({ name: "bare" });
  type Bare = typeof import("./fixtures/bare.ts");
  const kind = await run(
    task<Bare, "putThree">(here("./fixtures/bare.ts"), "putThree"),
    q,
  ).result;
  assert.equal(kind, "Queue");
  await q.end();
  const got: number[] = [];
  for await (const msg of q) got.push(msg.data);
  assert.deepEqual(got, [1, 2, 3]);
});

test(
  "Queue and IterableQueue reach their engine only through the Transport contract",
  {
    skip: overHttp && "reads src/ on disk",
  },
  () => {
    const src = new URL(
      ext === ".ts" ? "../src/" : "../../src/",
      import.meta.url,
    );
    for (const file of ["queue/queue.ts", "shapes/iterable_queue.ts"]) {
      const text = readFileSync(fileURLToPath(new URL(file, src)), "utf8");
      const leaks = text.match(
        /instanceof \w+Transport\b|as \w+Transport\b|\.broker\b/g,
      );
      assert.equal(leaks, null, `${file}: ${leaks}`);
    }
  },
);

// docs/from_python.md's Feeder example is examples/crawler.ts verbatim (but
// for the import), and it runs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ext, here, runScript } from "./_helpers.ts";

// The sources (the emitted form of the tests lives one level deeper).
const root = new URL(ext === ".ts" ? "../" : "../../", import.meta.url);

// Over http (the "deno (http)" lane) the files come from the same server.
async function readText(url: URL): Promise<string> {
  if (url.protocol === "file:") return readFileSync(url, "utf8");
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return await response.text();
}

test("the guide's Feeder example is examples/crawler.ts, and it runs to the end", async () => {
  const guide = await readText(new URL("docs/from_python.md", root));
  const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const shown = blocks.find((block) => block.includes("new Feeder"));
  assert.ok(shown, "the guide shows a Feeder");
  const file = await readText(new URL("examples/crawler.ts", root));
  assert.equal(shown, file.replace('from "../mod.ts"', 'from "@workq/workq"'));
  const { code, stdout, stderr } = await runScript(
    here("../examples/crawler.ts"),
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, /crawled 20 pages, 0 unread/);
  assert.equal(
    stdout.match(/^https:\/\/example\.com\/\d+ [0-9a-f]+ /gm)?.length,
    20,
  );
});

/**
 * QuasiQueue's shape with workq's Feeder: hash every file of a directory
 * tree. The writer walks the tree lazily on the main thread and hands out
 * paths when the queue runs low; reader workers read and hash each file
 * (SHA-256), each with a context made once per worker. Stops by itself when
 * the tree is done (or on Ctrl-C, reporting what was not read).
 *
 *   deno run --allow-read --allow-env examples/hash_tree.ts [dir]
 *   bun examples/hash_tree.ts [dir]
 *   node examples/hash_tree.ts [dir]
 */
import { opendir } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Feeder, task } from "../mod.ts";

type Tasks = typeof import("./hash_tree_task.ts");
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const tasks = new URL(`./hash_tree_task${ext}`, import.meta.url);
const root = process.argv[2] ??
  fileURLToPath(new URL("../src", import.meta.url));

// A lazy walk of the tree: the writer pulls only as many paths as asked.
async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of await opendir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}
const paths = walk(root);
let exhausted = false;

const digests = new Map<string, string>();
const feeder = new Feeder<string>("hasher", {
  writer: async (desired) => {
    const batch: string[] = [];
    while (batch.length < desired) {
      const next = await paths.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      batch.push(next.value);
    }
    return batch.length > 0 ? batch : null;
  },
  reader: task<Tasks, "hashFile">(tasks, "hashFile"),
  context: task<Tasks, "hasherContext">(tasks, "hasherContext"),
  onResult: (value) => {
    const [path, digest] = value as [string, string];
    digests.set(path, digest);
  },
  settings: { emptyQueueSleepTime: 0.05, lookupBlockSize: 16 },
});
const running = feeder.main();
// The tree is finite: stop once it is walked and every file is hashed.
const timer = setInterval(() => {
  const s = feeder.stats();
  if (exhausted && s.read + s.failed === s.written) feeder.stop();
}, 20);
const { unread, stats } = await running;
clearInterval(timer);
for (const [path, digest] of [...digests].sort().slice(0, 5)) {
  console.log(`${digest.slice(0, 16)}  ${path}`);
}
console.log(
  `hashed ${stats.read} files (${stats.failed} failed, ${unread.length} unread)`,
);

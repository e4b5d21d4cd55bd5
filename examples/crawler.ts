// QuasiQueue's crawler with workq's Feeder; docs/from_python.md shows this
// file verbatim. Run: deno run --allow-read --allow-env="CRAWLER_*"
// examples/crawler.ts (or bun, node).
import { Feeder, task } from "../mod.ts";

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const tasks = new URL(`./crawl_task${ext}`, import.meta.url);
const urls = Array.from({ length: 20 }, (_, i) => `https://example.com/${i}`);
let next = 0;
const nextUrls = (desiredItems: number) =>
  next < urls.length ? urls.slice(next, next += desiredItems) : null;

let crawled = 0;
const feeder = new Feeder<string>("crawler", {
  writer: (desiredItems) => nextUrls(desiredItems), // null: nothing now
  reader: task(tasks, "reader"),
  context: task(tasks, "connect"),
  settings: { numWorkers: 2 },
  onResult: (line) => {
    console.log(line);
    if (++crawled === urls.length) feeder.stop(); // else: until Ctrl-C
  },
});
const { unread, stats } = await feeder.main();
console.log(`crawled ${stats.read} pages, ${unread.length} unread`);

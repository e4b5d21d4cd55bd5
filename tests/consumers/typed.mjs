// A module task in plain JavaScript; and the package's other entries resolve.
import { run, task } from "@jsr/workq__workq";
import { redisQueue } from "@jsr/workq__workq/redis";

const double = task(new URL("./tasks.mjs", import.meta.url), "double");
console.log(`typed task: ${await run(double, 21).result}`);
const worker = import.meta.resolve("@jsr/workq__workq/redis/worker");
console.log(
  `entries: ${typeof redisQueue} ${worker.endsWith("/src/redis/worker.js")}`,
);

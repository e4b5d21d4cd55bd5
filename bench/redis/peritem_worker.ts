/**
 * The per-item consumer of bench/redis_bench.ts: one XREADGROUP, one XACK
 * per item (no batching, no prefetch), ezq's sum; puts its total on the
 * result stream when it reads an end marker.
 *
 *   <runtime> bench/redis/peritem_worker.ts URL IN OUT
 */
import process from "node:process";
import { Redis } from "ioredis";

const [url, inKey, outKey] = process.argv.slice(2);
const redis = new Redis(url, { protocol: 2 });
const me = `c-${process.pid}`;
let total = 0;
for (;;) {
  const reply = await redis.xreadgroup(
    "GROUP",
    "workq",
    me,
    "COUNT",
    1,
    "BLOCK",
    1000,
    "STREAMS",
    inKey,
    ">",
  ) as [string, [string, string[]][]][] | null;
  const entry = reply?.[0]?.[1]?.[0];
  if (!entry) continue;
  const [id, fields] = entry;
  await redis.xack(inKey, "workq", id);
  if (fields[0] === "end") break;
  total += Number(fields[1]);
}
await redis.xadd(outKey, "*", "sum", String(total));
redis.disconnect();
process.exit(0);

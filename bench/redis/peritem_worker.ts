/**
 * The raw Streams consumer of bench/redis_bench.ts, ezq's sum on ioredis
 * alone: one XREADGROUP of up to COUNT entries, then one XACK for all of
 * them, sent without waiting for its reply (it travels ahead of the next
 * read on the same connection). COUNT 1 is the per-item row, COUNT 64 the
 * pipelined ceiling. At an end marker it puts its total on the result
 * stream; markers read beyond the first go back on the stream, for the
 * other consumers.
 *
 *   <runtime> bench/redis/peritem_worker.ts URL IN OUT [COUNT]
 */
import process from "node:process";
import { Redis } from "ioredis";

const [url, inKey, outKey, countArg = "1"] = process.argv.slice(2);
const count = Number(countArg);
const redis = new Redis(url, { protocol: 2 });
const me = `c-${process.pid}`;
let total = 0;
let ended = false;
while (!ended) {
  const reply = await redis.xreadgroup(
    "GROUP",
    "workq",
    me,
    "COUNT",
    count,
    "BLOCK",
    1000,
    "STREAMS",
    inKey,
    ">",
  ) as [string, [string, string[]][]][] | null;
  const entries = reply?.[0]?.[1] ?? [];
  if (entries.length === 0) continue;
  let surplus = 0;
  for (const [, fields] of entries) {
    if (fields[0] !== "end") total += Number(fields[1]);
    else if (ended) surplus++;
    else ended = true;
  }
  redis.xack(inKey, "workq", ...entries.map(([id]) => id)).catch(() => {});
  for (let i = 0; i < surplus; i++) await redis.xadd(inKey, "*", "end", "1");
}
await redis.xadd(outKey, "*", "sum", String(total));
redis.disconnect();
process.exit(0);

/** The task of bench/redis_bench.ts's remote workers: ezq's sum. */
import { iterMsg, type Queue } from "../../mod.ts";

/** Adds up every item; puts the total on outQ at its end marker. */
export async function sum(
  inQ: Queue<number>,
  outQ: Queue<number>,
): Promise<void> {
  let total = 0;
  for await (const msg of iterMsg(inQ)) total += msg.data;
  await outQ.put(total);
}

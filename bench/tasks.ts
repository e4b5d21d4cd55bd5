// The workq side of the benchmarks: tasks given to run() as module exports.
import { iterMsg, type Queue } from "../mod.ts";

/** x -> x + 1 for every item, until the end marker. */
export async function inc(
  inQ: Queue<number>,
  outQ: Queue<number>,
): Promise<void> {
  for await (const msg of iterMsg(inQ)) await outQ.put(msg.data + 1);
}

/** Sends every buffer back, moved or copied. */
export async function bounce(
  inQ: Queue<ArrayBuffer>,
  outQ: Queue<ArrayBuffer>,
  move: boolean,
): Promise<void> {
  for await (const msg of iterMsg(inQ)) {
    await outQ.put(msg.data, move ? { transfer: [msg.data] } : {});
  }
}

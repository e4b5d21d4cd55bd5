// The workq side of the benchmarks: tasks given to run() as module exports.
import { iterBatches, iterMsg, type Queue } from "../mod.ts";
import { spin } from "./work.ts";

/** x -> x + 1 for every item, until the end marker. */
export async function inc(
  inQ: Queue<number>,
  outQ: Queue<number>,
): Promise<void> {
  for await (const msg of iterMsg(inQ)) await outQ.put(msg.data + 1);
}

/** x -> x + 1, `batch` items at a time both ways (iterBatches, putMany). */
export async function incBatches(
  inQ: Queue<number>,
  outQ: Queue<number>,
  batch: number,
): Promise<void> {
  for await (const msgs of iterBatches(inQ, { max: batch })) {
    const out: number[] = [];
    for (const msg of msgs) out.push(msg.data + 1);
    await outQ.putMany(out);
  }
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

/** ezq's sum: adds up every item, then puts the total. */
export async function sum(
  inQ: Queue<number>,
  outQ: Queue<number>,
): Promise<void> {
  let total = 0;
  for await (const msg of iterMsg(inQ)) total += msg.data;
  await outQ.put(total);
}

/** A CPU-bound task per item: puts spin(n) for every n. */
export async function spinEach(
  inQ: Queue<number>,
  outQ: Queue<number>,
): Promise<void> {
  for await (const msg of iterMsg(inQ)) await outQ.put(spin(msg.data));
}

/** Says it is up, then waits on `inQ` (idle) until the end marker. */
export async function idle(
  inQ: Queue<number>,
  readyQ: Queue<number>,
): Promise<void> {
  await readyQ.put(1);
  for await (const _ of iterMsg(inQ)) { /* idle */ }
}

/** A trivial task: its result is the first result of a cold start. */
export function one(x: number): number {
  return x + 1;
}

/** Waits for a go, then puts `n` numbers into `outQ`, one awaited put each. */
export async function produce(
  goQ: Queue<number>,
  outQ: Queue<number>,
  n: number,
): Promise<void> {
  await goQ.get();
  for (let i = 0; i < n; i++) await outQ.put(i);
}

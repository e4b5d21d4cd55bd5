/**
 * Moves a 64 MiB ArrayBuffer to a worker without a copy, lets it do real
 * CPU work (a histogram and a checksum of every byte), and moves it back.
 *
 *   deno run --allow-read examples/transfer.ts
 *   bun examples/transfer.ts
 *   node examples/transfer.ts
 */
import { Queue, run, transfer } from "../mod.ts";

const SIZE = 64 * 1024 * 1024;

/** Counts each byte value and computes an Adler-32-style checksum; returns the buffer too. */
async function analyse(
  jobs: Queue<ArrayBuffer>,
): Promise<{ buffer: ArrayBuffer; histogram: number[]; sum: number }> {
  const msg = await jobs.get();
  const bytes = new Uint8Array(msg.data);
  const histogram = new Array(256).fill(0);
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; i++) {
    histogram[bytes[i]]++;
    a = (a + bytes[i]) % 65521;
    b = (b + a) % 65521;
  }
  const result = { buffer: msg.data, histogram, sum: (b << 16) | a };
  return transfer(result, [msg.data]);
}

const buffer = new ArrayBuffer(SIZE);
const bytes = new Uint8Array(buffer);
for (let i = 0; i < SIZE; i++) bytes[i] = (i * 31) & 0xff;

const jobs = new Queue<ArrayBuffer>();
const worker = run(analyse, jobs);
const started = performance.now();
await jobs.put(buffer, { transfer: [buffer] });
console.log(
  `sent: the main thread's buffer now has ${buffer.byteLength} bytes (moved, not copied)`,
);
const result = await worker;
const elapsed = performance.now() - started;
console.log(
  `back: ${result.buffer.byteLength} bytes; checksum ${result.sum >>> 0}; ` +
    `byte 0 seen ${result.histogram[0]} times; ${elapsed.toFixed(0)} ms in all`,
);
if (
  result.buffer.byteLength !== SIZE ||
  result.histogram.reduce((s, n) => s + n, 0) !== SIZE
) {
  throw new Error("the buffer did not make the round trip whole");
}

/**
 * mpmq's example with workq's map: a function over inputs, shared data for
 * every call, log lines forwarded with the input's offset, and results in
 * input order. Then imap over a lazy stream, as results complete.
 *
 *   deno run --allow-read examples/map.ts
 *   bun examples/map.ts
 *   node examples/map.ts
 */
import { imap, log, map } from "../mod.ts";

function doWork(pid: number, shared: { number: number }): number {
  log(`hello from process: ${pid}`);
  return shared.number + pid;
}

const results = await map(doWork, [0, 1, 2], {
  shared: { number: 10 },
  onMessage: (offset, message) => console.log(`[input ${offset}] ${message}`),
});
console.log(`Results: ${results.join(", ")}`);

// Count the primes below each of 20 limits, as they complete (bounded memory).
async function* limits() {
  for (let i = 1; i <= 20; i++) yield i * 20_000;
}
function countPrimes(limit: number): [number, number] {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return [limit, count];
}
let total = 0;
for await (
  const [limit, count] of imap(countPrimes, limits(), {
    ordered: false,
    chunkSize: 1,
  })
) {
  total += count;
  if (limit === 400_000) console.log(`primes below ${limit}: ${count}`);
}
console.log(`sum of counts: ${total}`);

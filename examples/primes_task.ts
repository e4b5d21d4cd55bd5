// The worker side of examples/primes.ts: a module task, so it can import and
// share helpers with the main program.
import { iterMsg, Msg, type Queue } from "../mod.ts";

/** Counts primes in [from, to) by trial division. */
export function countPrimes(from: number, to: number): number {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

/** Reads [from, to) chunks until the end marker; puts each count with the chunk's order. */
export async function countChunks(
  chunks: Queue<[number, number]>,
  counts: Queue<number>,
): Promise<number> {
  let done = 0;
  for await (const msg of iterMsg(chunks)) {
    const [from, to] = msg.data;
    await counts.put(
      new Msg({ data: countPrimes(from, to), order: msg.order }),
    );
    done++;
  }
  return done;
}

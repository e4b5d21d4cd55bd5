// The crawler's worker side (examples/crawler.ts): a context made once per
// worker, and the reader run for each URL.

/** One "connection" per worker, reused by every read in it. */
export function connect(): { worker: string; reads: number } {
  return { worker: crypto.randomUUID().slice(0, 8), reads: 0 };
}

/** "Fetches" a page: here, a checksum of its URL instead of a download. */
export function reader(
  url: string,
  connection: { worker: string; reads: number },
): string {
  connection.reads++;
  let sum = 0;
  for (const char of url) sum = (sum * 31 + char.charCodeAt(0)) >>> 0;
  return `${url} ${
    sum.toString(16)
  } (worker ${connection.worker}, read ${connection.reads})`;
}

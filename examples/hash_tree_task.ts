// The reader side of examples/hash_tree.ts, loaded in each worker.
import { readFile } from "node:fs/promises";

/** Made once per worker: counts the files this worker hashed. */
export function hasherContext(): { files: number } {
  return { files: 0 };
}

/** Reads a file and returns [path, SHA-256 in hex]. */
export async function hashFile(
  path: string,
  context: { files: number },
): Promise<[string, string]> {
  const bytes = await readFile(path);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)),
  );
  context.files++;
  return [
    path,
    Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
  ];
}

/**
 * Where the user's code called workq: the first frame of a stack captured at
 * the call that lies outside workq's own files, so that an error found
 * later, in a worker, can point at the line that caused it.
 * @module
 */

// Frames of this folder are workq's; a URL on Deno and Node, a path on Bun.
const SRC = new URL("./", import.meta.url);
const OWN = [SRC.href, decodeURIComponent(SRC.pathname)];

const captured = new WeakMap<object, Error | string>();

/**
 * Remembers where `value` was made (a stack is captured now and read only
 * if {@linkcode siteOf} asks).
 */
export function remember<T extends object>(value: T): T {
  captured.set(value, new Error());
  return value;
}

/** The `file:line:column` of the user's code that made `value`, if known. */
export function siteOf(value: object): string | undefined {
  const site = captured.get(value);
  if (site === undefined || typeof site === "string") return site || undefined;
  const found = userFrame(site.stack ?? "");
  captured.set(value, found ?? "");
  return found;
}

function userFrame(stack: string): string | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const frame = line.trim().replace(/^at\s+/, "");
    // "fn (where)" or "where".
    const where = /\(([^()]+)\)$/.exec(frame)?.[1] ?? frame;
    if (!/:\d+:\d+$/.test(where)) continue;
    if (OWN.some((own) => where.startsWith(own))) continue;
    if (/^(node|ext|native|bun):/.test(where)) continue;
    return where;
  }
  return undefined;
}

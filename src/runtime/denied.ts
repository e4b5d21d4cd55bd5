/**
 * Deno's permission errors, read: which flag would have allowed what was
 * refused, so that workq's own message can name it where the refusal
 * happened inside workq (a worker loading a module, the Redis client loading).
 * @module
 */

// How Deno ends a permission error's message.
const DENIED = /,? run again with the (--allow-[a-z-]+) flag\.?$/;

/**
 * The flag a Deno permission error asks for, and its message without that
 * request; `undefined` for any other error.
 */
export function deniedFlag(
  error: unknown,
): { flag: string; reason: string } | undefined {
  const message = String((error as Error)?.message ?? error);
  const found = DENIED.exec(message);
  return found
    ? { flag: found[1], reason: message.slice(0, found.index) }
    : undefined;
}

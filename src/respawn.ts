/**
 * Replacing dead workers for workq's shapes (map, Feeder, ProcessQueue):
 * a worker that dies before it is up (its thread could not start, its task
 * could not load) is a failed start; a run of them in a row gives up with
 * an error naming the last cause, and each retry waits longer, so that no
 * respawn loop can spin or starve timers and signal handlers.
 * @module
 */

/** Failed starts in a row before giving up. */
export const MAX_FAILED_STARTS = 5;
const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 2000;

/**
 * A flag the worker raises once it is up (its task loaded and ready), read
 * by the main thread after the worker ended; `undefined` where
 * SharedArrayBuffer is missing (then only a worker that could not even be
 * spawned counts as a failed start).
 */
export function upFlag(): Int32Array | undefined {
  return typeof SharedArrayBuffer === "function"
    ? new Int32Array(new SharedArrayBuffer(4))
    : undefined;
}

/** Raises the flag (in the worker). */
export function markUp(flag: Int32Array | undefined): void {
  if (flag) Atomics.store(flag, 0, 1);
}

/** Whether a worker that ended with `error` had come up first. */
export function wasUp(flag: Int32Array | undefined, error?: unknown): boolean {
  if (flag) return Atomics.load(flag, 0) === 1;
  return (error as { reason?: unknown } | undefined)?.reason !== "spawn";
}

/** What {@linkcode respawner} returns. */
export interface Respawner {
  /**
   * A worker died and is to be replaced: at once (on the next turn) when it
   * had come up, else after a growing delay, or not at all after
   * {@linkcode MAX_FAILED_STARTS} failed starts in a row (`giveUp` is called).
   * @returns The delay before the replacement starts, or `undefined` when giving up.
   */
  replace(up: boolean, error: unknown): number | undefined;
  /** No more replacements; a pending one is cancelled. */
  stop(): void;
}

/**
 * Creates the replacement policy of one shape.
 * @param what Who gives up, for the error: e.g. `Feeder "crawler": ` + count + noun.
 * @param noun What the workers are, e.g. "reader workers".
 * @param start Starts one worker.
 * @param giveUp Called once with the error naming the last cause (as `cause`).
 */
export function respawner(
  what: string,
  noun: string,
  start: () => void,
  giveUp: (error: Error) => void,
): Respawner {
  let failed = 0;
  let stopped = false;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  return {
    replace(up, error) {
      if (stopped) return undefined;
      failed = up ? 0 : failed + 1;
      if (failed >= MAX_FAILED_STARTS) {
        stopped = true;
        const message = (error as Error | undefined)?.message ?? String(error);
        giveUp(
          new Error(
            `${what}: ${failed} ${noun} in a row failed to start; the last: ${message}`,
            { cause: error },
          ),
        );
        return undefined;
      }
      const delay = failed === 0
        ? 0
        : Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (failed - 1));
      // Never on the same turn: a worker that dies at once must not spin.
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!stopped) start();
      }, delay);
      timers.add(timer);
      return delay;
    },
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

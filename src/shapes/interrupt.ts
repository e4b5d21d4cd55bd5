/**
 * Ctrl-C for the pools: one SIGINT listener for every pool not yet closed
 * (pools listening each on their own would each take another's listener
 * for the program's, and none would end the process). On SIGINT every pool
 * is stopped, so that its pending tasks reject with an error naming the
 * interrupt; once their workers are gone (or after `STOP_BOUND_MS`) and the
 * rejections' handlers had a turn, SIGINT is raised again and ends the
 * process as it would have without a pool. Unless something else listened
 * to it when it came (another shape of workq, or the program with
 * `process.on`): then that listener decides, as it would have. A second
 * SIGINT meanwhile raises it at once.
 * @module
 */
import { runtime } from "../runtime/mod.ts";

// Milliseconds the pools' workers get to be gone before SIGINT is raised again.
const STOP_BOUND_MS = 2000;

const stops = new Set<() => Promise<void>>();
let off: (() => void) | undefined;
// Set from a SIGINT until it is raised again: whether others listened then.
let interrupt: { others: boolean } | undefined;

function raise(): void {
  const others = interrupt?.others;
  interrupt = undefined;
  if (stops.size === 0) unlisten();
  if (others) return;
  unlisten();
  runtime.raiseSignal("SIGINT");
}

function unlisten(): void {
  off?.();
  off = undefined;
}

function onSigint(): void {
  if (interrupt) return raise();
  // This listener is one of them.
  const current = { others: runtime.signalListeners("SIGINT") > 1 };
  interrupt = current;
  const stopped = Promise.allSettled([...stops].map((stop) => stop()));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise((resolve) => {
    timer = setTimeout(resolve, STOP_BOUND_MS);
  });
  void Promise.race([stopped, bound]).then(() => {
    clearTimeout(timer);
    // A macrotask: the rejected tasks' handlers (a log line, a reply) run first.
    setTimeout(() => interrupt === current && raise(), 0);
  });
}

/**
 * Calls `stop` on SIGINT, then ends the process as SIGINT would have.
 * @param stop Stops one pool (rejecting its tasks); resolves once its
 * workers are gone.
 * @returns What stops listening for this pool (once it is closed).
 */
export function onInterrupt(stop: () => Promise<void>): () => void {
  stops.add(stop);
  off ??= runtime.onSignal("SIGINT", onSigint);
  return () => {
    stops.delete(stop);
    if (stops.size === 0 && !interrupt) unlisten();
  };
}

/**
 * Signals, the same way in both runtime families.
 * @module
 */
import type { Signal } from "./types.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/**
 * Calls `handler` on `signal` instead of the default exit, until the
 * returned function is called. Deno's `process.on("SIGINT")` does not
 * replace the default exit, so Deno's own listener comes first; Node and
 * Bun have `process`; a browser has neither (then never).
 */
export function onSignal(signal: Signal, handler: () => void): () => void {
  const { Deno: deno, process } = globalThis as Any;
  if (deno?.addSignalListener) {
    deno.addSignalListener(signal, handler);
    return () => deno.removeSignalListener(signal, handler);
  }
  if (!process?.on) return () => {};
  process.on(signal, handler);
  return () => process.off(signal, handler);
}

const SIGNAL_NUMBERS: Record<Signal, number> = { SIGINT: 2, SIGTERM: 15 };

/**
 * Sends `signal` to this process again, once workq's own listener is gone,
 * so that it ends the process as it would have without workq: unless the
 * program listens to it itself (`process.on`), then that listener decides.
 * Deno's `Deno.addSignalListener` listeners cannot be seen, so on Deno the
 * signal is always sent; where it cannot be, the process exits with the
 * shell's code for it (128 + its number). A browser has no signals.
 */
export function raiseSignal(signal: Signal): void {
  const { Deno: deno, process } = globalThis as Any;
  if (deno?.kill) {
    try {
      deno.kill(deno.pid, signal);
    } catch {
      deno.exit(128 + SIGNAL_NUMBERS[signal]);
    }
    return;
  }
  if (!process?.kill || process.listenerCount?.(signal) > 0) return;
  try {
    process.kill(process.pid, signal);
  } catch {
    process.exit(128 + SIGNAL_NUMBERS[signal]);
  }
}

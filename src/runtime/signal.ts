/**
 * Signals, the same way in both runtime families.
 * @module
 */
import type { Signal } from "./types.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

// workq's own listeners (a Feeder's, a map's): Deno cannot count them.
const ours: Record<Signal, number> = { SIGINT: 0, SIGTERM: 0 };

/**
 * Calls `handler` on `signal` instead of the default exit, until the
 * returned function is called. Deno's `process.on("SIGINT")` does not
 * replace the default exit, so Deno's own listener comes first; Node and
 * Bun have `process`; a browser has neither (then never).
 */
export function onSignal(signal: Signal, handler: () => void): () => void {
  const { Deno: deno, process } = globalThis as Any;
  let off: () => void;
  if (deno?.addSignalListener) {
    deno.addSignalListener(signal, handler);
    off = () => deno.removeSignalListener(signal, handler);
  } else if (process?.on) {
    process.on(signal, handler);
    off = () => process.off(signal, handler);
  } else return () => {};
  ours[signal]++;
  let on = true;
  return () => {
    if (!on) return;
    on = false;
    ours[signal]--;
    off();
  };
}

const SIGNAL_NUMBERS: Record<Signal, number> = { SIGINT: 2, SIGTERM: 15 };

/**
 * How many listeners of `signal` workq can see: on Node and Bun every
 * `process.on` one (workq's own among them); on Deno only workq's own
 * (Deno cannot list the program's `Deno.addSignalListener` ones).
 */
export function signalListeners(signal: Signal): number {
  const { Deno: deno, process } = globalThis as Any;
  if (deno?.addSignalListener) return ours[signal];
  return process?.listenerCount?.(signal) ?? ours[signal];
}

/**
 * Sends `signal` to this process again (once the listener that took it is
 * gone, it ends the process as it would have without workq); where it
 * cannot be sent, the process exits with the shell's code for it (128 +
 * its number). A browser has no signals.
 */
export function raiseSignal(signal: Signal): void {
  const { Deno: deno, process } = globalThis as Any;
  const code = 128 + SIGNAL_NUMBERS[signal];
  try {
    if (deno?.kill) deno.kill(deno.pid, signal);
    else process?.kill(process.pid, signal);
  } catch {
    (deno ?? process)?.exit(code);
  }
}

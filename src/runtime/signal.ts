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

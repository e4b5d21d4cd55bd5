/**
 * A map worker's clock: the input it is on and since when, which the main
 * thread reads for `map()`'s per-input timeout. Where SharedArrayBuffer
 * exists (Deno, Bun, Node, a cross-origin isolated page) the worker writes
 * it in shared memory, without a message per input; elsewhere (a page
 * without COOP/COEP) it posts each stamp on a MessagePort and the main
 * thread keeps the copy it reads. Either way the stamp leaves before the
 * input runs, so an input that never yields is still timed.
 * @module
 */
import { runtime } from "../runtime/mod.ts";

/** The worker's end of a clock: shared memory or a port. */
export type ClockEnd = Float64Array | MessagePort;

/** The main thread's side of one worker's clock. */
export interface Clock {
  /** What to give the worker (transfer it when it is a port). */
  readonly end: ClockEnd;
  /** [offset in progress or -1, when it started (Date.now())]. */
  readonly cell: Float64Array;
  /** Stops listening (the worker has ended). */
  close(): void;
}

/** A fresh clock: shared where SharedArrayBuffer exists, else over a port. */
export function newClock(): Clock {
  if (typeof SharedArrayBuffer === "function") {
    const cell = new Float64Array(new SharedArrayBuffer(16)).fill(-1);
    return { end: cell, cell, close() {} };
  }
  const cell = new Float64Array(2).fill(-1);
  const { port1, port2 } = new MessageChannel();
  const stop = runtime.listenPort(port1, (data) => {
    const [offset, since] = data as [number, number];
    cell[1] = since;
    cell[0] = offset;
  });
  return {
    end: port2,
    cell,
    close() {
      stop();
      port1.close();
    },
  };
}

/** Stamps the input at `offset` as started now, or none (-1) as running (worker side). */
export function stamp(end: ClockEnd | undefined, offset: number): void {
  if (!end) return;
  if (end instanceof Float64Array) {
    end[1] = Date.now();
    end[0] = offset;
  } else end.postMessage([offset, Date.now()]);
}

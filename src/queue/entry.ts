/**
 * One queued item, as every engine keeps it and as the Transport contract
 * passes it: the in-process engine packs it for the wire
 * (`threads/protocol.ts`), the Redis engine into stream fields. The fields are
 * one letter because entries are the hot path's objects; each is named here.
 * @module
 */

import { DONE, END } from "../msg.ts";

/** One queued item as an engine keeps it. */
export interface Entry {
  /** kind */
  k: string;
  /** data, encoded (see `wire.ts`) when `w` is set */
  d: unknown;
  /** order */
  o: number;
  /** attempt: deliveries so far, counting this one */
  a: number;
  /** whether `d` holds descriptors of live objects */
  w: boolean;
  /** what to move, not copy, when the entry is sent on */
  x: Transferable[] | undefined;
  /** strikes: deaths of workers that had it in progress (owner only, never sent) */
  s?: number;
}

/**
 * Whether a batch read stops after `entry`: the end marker, or the done
 * signal of a queue whose producers all closed. Nothing after either is
 * handed out with it, so that the next reader gets what follows.
 */
export function endsBatch(entry: Entry): boolean {
  return entry.k === END || entry.k === DONE;
}

/**
 * The wire protocol between a queue's owner (the thread that created it,
 * which holds the items) and its clients (every other thread that was handed
 * the queue). One MessagePort per client; messages are unions keyed on `t`.
 *
 * Items travel in batches, column by column, so that a batch of plain values
 * is one array; columns that hold only defaults are left out.
 * @module
 */
import type { Entry } from "../entry.ts";

/** A batch of entries, column by column. */
export interface Batch {
  d: unknown[];
  k?: string[];
  o?: number[];
  a?: number[];
  w?: number[];
  x?: (Transferable[] | 0)[];
}

/** Client to owner. */
export type ClientMessage =
  /**
   * Items put by the client; the owner answers `accepted` once they are all
   * in. Into a bounded queue, each uses one credit (see `room`).
   */
  | { t: "put"; b: Batch }
  /** Bounded queues: the client would like more put credit. */
  | { t: "want" }
  /** Bounded queues: the client gives back `n` credit it did not use. */
  | { t: "spare"; n: number }
  /** `n` more items may be sent; the first `a` items held are finished. */
  | { t: "pull"; n: number; a: number }
  /** Answer `synced` once every earlier put of this client is in the queue. */
  | { t: "sync"; id: number }
  /** A new client on `port` (a handle passed on to another thread). */
  | { t: "attach"; port: MessagePort; cell: Int32Array | undefined }
  /** The client is done: the first `a` held items are finished, the rest go back. */
  | { t: "release"; a: number }
  /** A producer endpoint of the queue was made in the client's thread. */
  | { t: "producer" }
  /** No new producer will come (see the broker's `seal`). */
  | { t: "seal" };

/** Owner to client. */
export type OwnerMessage =
  /** Items for the client; `z` is the queue's size after they left. */
  | { t: "items"; b: Batch; z: number }
  /** The client's oldest unanswered put is all in the queue. */
  | { t: "accepted"; z: number }
  | { t: "synced"; id: number; z: number }
  /** Bounded queues: `n` more puts may be sent without waiting (room set aside). */
  | { t: "room"; n: number; z: number }
  /** The owner's thread is ending: the queue is gone. */
  | { t: "gone"; z: number }
  /** The release is done; the port closes after this. */
  | { t: "released"; z: number };

/** Packs entries into a batch, moving their transfer lists into `transfer`. */
export function pack(entries: Entry[], transfer: Transferable[]): Batch {
  const n = entries.length;
  const d = new Array<unknown>(n);
  let k: string[] | undefined, o: number[] | undefined, a: number[] | undefined;
  let w: number[] | undefined, x: (Transferable[] | 0)[] | undefined;
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    d[i] = e.d;
    if (e.k !== "") (k ??= new Array(n).fill(""))[i] = e.k;
    if (e.o !== 0) (o ??= new Array(n).fill(0))[i] = e.o;
    if (e.a !== 1) (a ??= new Array(n).fill(1))[i] = e.a;
    if (e.w) (w ??= new Array(n).fill(0))[i] = 1;
    if (e.x) {
      (x ??= new Array(n).fill(0))[i] = e.x;
      for (const item of e.x) transfer.push(item);
    }
  }
  const batch: Batch = { d };
  if (k) batch.k = k;
  if (o) batch.o = o;
  if (a) batch.a = a;
  if (w) batch.w = w;
  if (x) batch.x = x;
  return batch;
}

/** Unpacks a batch into entries. */
export function unpack(batch: Batch): Entry[] {
  const { d, k, o, a, w, x } = batch;
  const out = new Array<Entry>(d.length);
  for (let i = 0; i < d.length; i++) {
    out[i] = {
      k: k ? k[i] : "",
      d: d[i],
      o: o ? o[i] : 0,
      a: a ? a[i] : 1,
      w: w ? w[i] === 1 : false,
      x: x && x[i] ? x[i] as Transferable[] : undefined,
    };
  }
  return out;
}

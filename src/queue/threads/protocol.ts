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

/**
 * The most put credit one producer of a bounded queue holds at a time: half
 * the bound, at most 1024 (the unbounded queue's window). Each grant costs a
 * message each way, so fewer and larger grants keep producers streaming where
 * a message is dear (on Deno, a quarter of the bound left 2 workers' puts at
 * 0.45-0.58x of the same flow unbounded; half, 0.57-0.77x). The client asks
 * again at half of it.
 */
export function creditCap(maxsize: number): number {
  return Math.max(1, Math.min(1024, Math.floor(maxsize / 2)));
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
  /** The client's `n` oldest unanswered puts are all in the queue. */
  | { t: "accepted"; n: number; z: number }
  | { t: "synced"; id: number; z: number }
  /** Bounded queues: `n` more puts may be sent without waiting (room set aside). */
  | { t: "room"; n: number; z: number }
  /** The owner's thread is ending: the queue is gone. */
  | { t: "gone"; z: number }
  /** The release is done; the port closes after this. */
  | { t: "released"; z: number };

/**
 * Packs entries into a batch, moving their transfer lists into `transfer`.
 * Every column is built by `push`: an array made with `new Array(n)` stays
 * "holey" even once full, and structured clone writes a holey array key by
 * key (about 3x slower on every runtime, and read back slower too).
 */
export function pack(entries: Entry[], transfer: Transferable[]): Batch {
  const n = entries.length;
  const d: unknown[] = [];
  let k: string[] | undefined, o: number[] | undefined, a: number[] | undefined;
  let w: number[] | undefined, x: (Transferable[] | 0)[] | undefined;
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    d.push(e.d);
    if (e.k !== "") (k ??= column(i, ""))[i] = e.k;
    else if (k) k.push("");
    if (e.o !== 0) (o ??= column(i, 0))[i] = e.o;
    else if (o) o.push(0);
    if (e.a !== 1) (a ??= column(i, 1))[i] = e.a;
    else if (a) a.push(1);
    if (e.w) (w ??= column(i, 0))[i] = 1;
    else if (w) w.push(0);
    if (e.x) {
      (x ??= column<Transferable[] | 0>(i, 0))[i] = e.x;
      for (const item of e.x) transfer.push(item);
    } else if (x) x.push(0);
  }
  const batch: Batch = { d };
  if (k) batch.k = k;
  if (o) batch.o = o;
  if (a) batch.a = a;
  if (w) batch.w = w;
  if (x) batch.x = x;
  return batch;
}

// A packed column of `n` defaults, and room for the value at `n`.
function column<T>(n: number, value: T): T[] {
  const out: T[] = [];
  for (let i = 0; i <= n; i++) out.push(value);
  return out;
}

/** Unpacks a batch into entries. */
export function unpack(batch: Batch): Entry[] {
  const { d, k, o, a, w, x } = batch;
  const out: Entry[] = [];
  for (let i = 0; i < d.length; i++) {
    out.push({
      k: k ? k[i] : "",
      d: d[i],
      o: o ? o[i] : 0,
      a: a ? a[i] : 1,
      w: w ? w[i] === 1 : false,
      x: x && x[i] ? x[i] as Transferable[] : undefined,
    });
  }
  return out;
}

/**
 * The seam between the public `Queue` and where its items live. The
 * in-process transports (the owner's, and a client's over a MessagePort)
 * implement it today; a distributed engine implements the same contract:
 * batched puts, credit-limited gets, finished items acknowledged by the next
 * `get`, and `release` giving back what was received and not read.
 * @module
 */
import type { Entry } from "./entry.ts";
import type { EncodedItem, Lifeline, WireDescriptor } from "../wire.ts";

/** How a `get` may be cut short. */
export interface WaitOptions {
  signal?: AbortSignal | undefined;
  timeout?: number | undefined;
}

/** Where a queue's items live, seen from one thread. */
export interface Transport {
  readonly name: string;
  /** The bound; `Infinity` when unbounded. */
  readonly maxsize: number;
  /** Items waiting (exact at the owner, last known elsewhere). */
  readonly size: number;
  /** Whether this handle can still be used (not released, not failed). */
  readonly usable: boolean;
  /**
   * Turns an object put into this queue into what the engine keeps: live
   * objects (queues) as descriptors where items cross threads, refused by
   * name where they cannot travel; the transfer list applied.
   * @throws {TypeError} When the engine cannot keep the data.
   */
  encode(data: object, transfer: Transferable[] | undefined): EncodedItem;
  /** A producer endpoint was made for this queue (see `iterable_queue.ts`). */
  openProducer(): void;
  /** No new producer will come for this queue: once all have closed and it is drained, it is done. */
  seal(): void;
  /**
   * Adds an entry (already encoded and, where needed, cloned); resolves once
   * it is accepted (for a bounded queue: once there was room).
   */
  put(entry: Entry): Promise<void>;
  /**
   * Adds entries in order; resolves once all are accepted. A transport
   * that can send them together does (Redis: one pipeline).
   */
  putMany(entries: Entry[]): Promise<void>;
  /** Takes the next entry if one is here now, without waiting (the fast path of `get`). */
  poll(): Entry | undefined;
  /**
   * Takes the next entry; the entry taken before it by this thread counts as
   * finished from now on.
   */
  get(options: WaitOptions): Promise<Entry>;
  /**
   * Takes 1 to `max` entries in order, waiting for the first as `get` does:
   * those here now, without waiting for more. The entries taken before by
   * this thread count as finished from now on; these, at the next read. A
   * batch ends at the end marker or done signal (see `endsBatch`).
   */
  getMany(max: number, options: WaitOptions): Promise<Entry[]>;
  /**
   * A descriptor through which another thread reaches the same queue; what
   * to call if that thread dies goes into `lifelines` where it is known here.
   */
  handoff(transfer: Transferable[], lifelines: Lifeline[]): WireDescriptor;
  /** Resolves once every put of this thread is in the queue. */
  settle(): Promise<void>;
  /**
   * This thread is done: read items are finished, unread ones go back.
   * Resolves once the owner has taken note.
   */
  release(): Promise<void>;
}

/** Rejects with `signal.reason`, or a `TimeoutError` after `timeout` ms, unless `wait` settles first. */
export function cutShort<T>(
  wait: (
    settle: { resolve(v: T): void; reject(e: unknown): void },
  ) => () => void,
  options: WaitOptions,
  what: string,
): Promise<T> {
  const { signal, timeout } = options;
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const cancel = wait({
      resolve: (v) => {
        done();
        resolve(v);
      },
      reject: (e) => {
        done();
        reject(e);
      },
    });
    const onAbort = () => {
      done();
      cancel();
      reject(signal!.reason);
    };
    if (signal) {
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
    }
    if (timeout !== undefined && timeout !== Infinity) {
      timer = setTimeout(() => {
        done();
        cancel();
        reject(
          new DOMException(
            `${what} timed out after ${timeout} ms`,
            "TimeoutError",
          ),
        );
      }, timeout);
    }
  });
}

/**
 * The one worker group of workq's shapes (map, Feeder, ProcessQueue). A
 * worker that dies before it is up (its thread could not start, its task
 * could not load) is a failed start: its replacement waits longer each
 * time, and {@linkcode MAX_FAILED_STARTS} in a row give up, so that no
 * respawn loop spins or starves timers and signal handlers. A worker that
 * had come up (it returned, e.g. recycled after K tasks, or died later)
 * resets that count and is replaced at once (a dead one on the next turn).
 * @module
 */
import type { WorkerHandle } from "../worker/run.ts";
import { runtime, type Signal } from "../runtime/mod.ts";

/** Failed starts in a row before a group gives up. */
export const MAX_FAILED_STARTS = 5;
const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 2000;

/** The module of the shapes' drivers, the tasks their workers run. */
export { drivers } from "../worker/worker_url.ts";

/** How a worker of a group died: why, and whether it had come up first. */
export type Death = { error: unknown; up: boolean };

/** What a shape tells its {@linkcode WorkerGroup}. */
export interface WorkerGroupOptions<R> {
  /** Who gives up, as its error's start, e.g. `Feeder "crawler"`. */
  name: string;
  /** What the workers are called in that error. @default "workers" */
  noun?: string;
  /**
   * Starts one worker, which raises `up` (`Atomics.store(up, 0, 1)`) once
   * its task is loaded. Without SharedArrayBuffer `up` is `undefined`, and
   * only a thread that could not be spawned is a failed start.
   */
  spawn(up: Int32Array | undefined): WorkerHandle<R>;
  /** Whether an ended worker is replaced (asked again when a delayed one is due). @default always */
  want?(): boolean;
  /** Each end, before the replacement; `death` is `undefined` when the worker returned. */
  ended?(handle: WorkerHandle<R>, death: Death | undefined): void;
  /** A dead worker's replacement starts in `delay` ms. */
  replacing?(error: unknown, delay: number): void;
  /** Called once when the group gives up: `cause` is the last failed start's error, or what `spawn` threw. */
  failed?(error: unknown): void;
  /** Signals that stop replacements and call `onStop`. */
  signals?: readonly Signal[];
  /** Stops replacements and calls `onStop` when it aborts (or had aborted). */
  abort?: AbortSignal;
  /** A signal (`count`: how many so far) or the abort came. */
  onStop?(why: Signal | "abort", count: number): void;
}

/**
 * The workers of one shape. Signals and the abort signal are listened to
 * from construction until `stop()`.
 * @typeParam R What a worker's task returns.
 */
export class WorkerGroup<R> {
  readonly #o: WorkerGroupOptions<R>;
  readonly #workers = new Set<WorkerHandle<R>>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #offs: (() => void)[] = [];
  #failedStarts = 0;
  /** Why each start of the current run of failed starts failed. */
  #startErrors: unknown[] = [];
  #halted = false;

  /**
   * Makes the group and listens to its signals; no worker starts yet.
   * @param options How to start a worker and what to tell the shape.
   */
  constructor(options: WorkerGroupOptions<R>) {
    this.#o = options;
    let count = 0;
    const stop = (why: Signal | "abort") => {
      this.#halt();
      options.onStop?.(why, why === "abort" ? count : ++count);
    };
    for (const signal of options.signals ?? []) {
      this.#offs.push(runtime.onSignal(signal, () => stop(signal)));
    }
    const abort = options.abort;
    if (!abort) return;
    const onAbort = () => stop("abort");
    abort.addEventListener("abort", onAbort, { once: true });
    this.#offs.push(() => abort.removeEventListener("abort", onAbort));
    if (abort.aborted) onAbort();
  }

  /** Whether a dead worker's replacement is waiting out its delay. */
  get starting(): boolean {
    return this.#timers.size > 0;
  }

  /**
   * Starts `count` workers (none once a signal, the abort or a give-up
   * stopped the group); each is replaced when it ends. What `spawn` throws
   * is a give-up.
   * @param count How many.
   */
  start(count: number): void {
    for (let i = 0; i < count && !this.#halted; i++) this.#spawn();
  }

  /**
   * Lets every worker go; none is replaced any more. Signals are still
   * listened to meanwhile (until `stop()`).
   * @param options `end` asks one worker to end (e.g. puts an end marker;
   * called once per live worker), then they get `graceMs` (default: no
   * limit) or until `cut` settles; the rest are terminated.
   * @returns A promise that resolves once every worker is gone.
   */
  async close(options: {
    end?: () => Promise<unknown>;
    graceMs?: number;
    cut?: Promise<unknown>;
  } = {}): Promise<void> {
    const { end, graceMs = Infinity, cut } = options;
    this.#halt();
    for (let i = end ? this.#workers.size : 0; i > 0; i--) await end!();
    if (end && graceMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waits = [
        Promise.allSettled([...this.#workers].map((w) => w.result)),
        cut ?? new Promise(() => {}),
      ];
      if (graceMs < Infinity) {
        waits.push(new Promise((r) => (timer = setTimeout(r, graceMs))));
      }
      await Promise.race(waits);
      clearTimeout(timer);
    }
    await Promise.all([...this.#workers].map((w) => w.terminate()));
  }

  /** No more replacements, and no more listening to signals or the abort. */
  stop(): void {
    this.#halt();
    for (const off of this.#offs.splice(0)) off();
  }

  #halt(): void {
    this.#halted = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #fail(error: unknown): void {
    this.#halt();
    this.#o.failed?.(error);
  }

  #spawn(): void {
    const up = typeof SharedArrayBuffer === "function"
      ? new Int32Array(new SharedArrayBuffer(4))
      : undefined;
    let handle: WorkerHandle<R>;
    try {
      handle = this.#o.spawn(up);
    } catch (error) {
      return this.#fail(error);
    }
    this.#workers.add(handle);
    handle.result.then(
      () => this.#ended(handle, undefined),
      (error) =>
        this.#ended(handle, {
          error,
          up: up ? Atomics.load(up, 0) === 1 : error?.reason !== "spawn",
        }),
    );
  }

  /**
   * The error of giving up. Its cause is the reason most of the failed starts
   * gave, not merely the last: one start that failed for a passing reason
   * (a module fetch that broke off) must not hide why the others failed.
   */
  #gaveUp(last: unknown): Error {
    const errors = this.#startErrors.slice(0, this.#failedStarts);
    const text = (e: unknown) => (Object(e) as Error).message ?? String(e);
    const counts = new Map<string, number>();
    for (const e of errors) counts.set(text(e), (counts.get(text(e)) ?? 0) + 1);
    // The most frequent reason; among equals, the latest.
    let cause = last;
    for (const e of [...errors].reverse()) {
      if (counts.get(text(e))! > counts.get(text(cause))!) cause = e;
    }
    const most = counts.get(text(cause))!;
    const also = cause === last ? "" : `; ${most} of them: ${text(cause)}`;
    return new Error(
      `${this.#o.name}: ${this.#failedStarts} ${
        this.#o.noun ?? "workers"
      } in a row failed to start; the last: ${text(last)}${also}`,
      { cause },
    );
  }

  #replace(): void {
    if (!this.#halted && (this.#o.want?.() ?? true)) this.#spawn();
  }

  #ended(handle: WorkerHandle<R>, death: Death | undefined): void {
    this.#workers.delete(handle);
    this.#o.ended?.(handle, death);
    if (this.#halted || !(this.#o.want?.() ?? true)) return;
    if (!death || death.up) this.#failedStarts = 0;
    if (!death) return this.#replace();
    if (!death.up) this.#startErrors[this.#failedStarts] = death.error;
    if (!death.up && ++this.#failedStarts >= MAX_FAILED_STARTS) {
      return this.#fail(this.#gaveUp(death.error));
    }
    const delay = this.#failedStarts === 0
      ? 0
      : Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (this.#failedStarts - 1));
    this.#o.replacing?.(death.error, delay);
    // Never on the same turn: a worker that dies at once must not spin.
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#replace();
    }, delay);
    this.#timers.add(timer);
  }
}

/**
 * Messages between a parent and a worker it started.
 * @module
 */
import type { ErrorData } from "../errors.ts";
import type { TaskSpec } from "../task.ts";

/** Parent to worker: the one message that starts it. */
export interface StartMessage {
  t: "start";
  name: string;
  /** The worker thread's identity (see `queue/threads/owner.ts`). */
  thread: string;
  task: TaskSpec;
  args: unknown[];
  wired: boolean;
}

/** Worker to parent. */
export type WorkerMessage =
  /** The task returned; `value` is encoded when `wired`. */
  | { t: "done"; value: unknown; wired: boolean }
  /** The task threw. */
  | { t: "error"; error: ErrorData | { value: unknown } }
  /** An error escaped outside the task; the worker is going down. */
  | { t: "fatal"; error: ErrorData | { value: unknown } }
  /** The worker is ending itself. */
  | { t: "exit"; code: number };

/** Inputs for a map worker: the first input's offset and the inputs from there on. */
export type MapChunk = [start: number, inputs: unknown[]];

/**
 * Results of a chunk: its start, the values (a failed input's slot is
 * empty), and the failures as [index in the chunk, error as data].
 */
export type MapResults = [
  start: number,
  values: unknown[],
  failures: [number, unknown][],
];

/**
 * The pool to a worker, over the worker's own channel: a batch of orders, in
 * order, flattened into one array (see {@linkcode PoolBatch}), or `"end"`
 * (finish what was given, then return). An order is a
 * task to run (`[id, spec number, args]`; with `each`, once per item of
 * `args`, giving the array of results), a task spec the worker learns once
 * before its first use (`[spec number, "spec", spec]`), or the cancel of
 * task `id` (`[id, "cancel", reason as data]`).
 */
export type PoolJob =
  | [id: number, spec: number, args: unknown[], each: 0 | 1]
  | [spec: number, learn: "spec", task: TaskSpec, unused: 0]
  | [
    id: number,
    cancel: "cancel",
    reason: ErrorData | { value: unknown },
    unused: 0,
  ];

/** The outcome id of a pool worker's "I am up". */
export const POOL_UP = -1;
/** The outcome id of a pool worker's last word before it ends itself. */
export const POOL_LAST = -2;

/**
 * A worker to the pool, a batch per turn of the worker (flattened, see
 * {@linkcode PoolBatch}): `[POOL_UP, true, 0, -1]` once it is up, then for each
 * task any `[id, "progress", value, -1]` and last `[id, true, value, ms]`
 * or `[id, false, error as data, ms]`, where `ms` is how long the task ran
 * as the worker measured it (-1 when it never started); `[POOL_LAST, true, 0,
 * -1]` last when a task ends the thread (everything before it has been sent).
 */
export type PoolOutcome = [
  id: number,
  ok: boolean | "progress",
  value: unknown,
  ms: number,
];

/**
 * Orders or outcomes of one turn, each one's four entries after the
 * previous one's: one array per message, not one per task.
 */
export type PoolBatch = unknown[];

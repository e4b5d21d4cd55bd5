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
 * The pool to a worker: a task to run (`[id, spec, args]`; with `each`,
 * once per item of `args`, giving the array of results), or the cancel of
 * the task with that id (`[id, "cancel", reason as data]`).
 */
export type PoolJob =
  | [id: number, spec: TaskSpec, args: unknown[], each?: true]
  | [id: number, cancel: "cancel", reason: ErrorData | { value: unknown }];

/**
 * A worker to the pool: `[-1, true, worker]` once it is up, then for each
 * task any `[id, "progress", value]` and last `[id, true, value]` or
 * `[id, false, error as data]`.
 */
export type PoolOutcome = [
  id: number,
  ok: boolean | "progress",
  value: unknown,
];

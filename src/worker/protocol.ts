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
  /** The worker thread's identity (see `queue/local.ts`). */
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

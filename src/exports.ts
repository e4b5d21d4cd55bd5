/**
 * Everything workq exports, gathered once: `mod.ts` re-exports it, and a
 * function task's worker gives it to the task's source as its scope (see
 * `worker/load.ts`). No module of `src/` imports `mod.ts`.
 * @module
 */
import { runtime } from "./runtime/mod.ts";

export { END, Msg, type MsgInit } from "./msg.ts";
export {
  type DeadLetter,
  type GetManyOptions,
  type GetOptions,
  type PutOptions,
  Queue,
  type QueueOptions,
} from "./queue/queue.ts";
export {
  iterBatches,
  type IterBatchesOptions,
  iterMsg,
  iterSortq,
} from "./queue/iter.ts";
export { endq, endqAndWait } from "./shapes/endq.ts";
export { run, WorkerHandle } from "./worker/run.ts";
export { setWorkerUrl } from "./worker/worker_url.ts";
export {
  type DenoPermissionName,
  type DenoPermissions,
  type DenoTaskOptions,
  type ResourceLimits,
  type Task,
  task,
  type TaskFunction,
  type TaskOptions,
  type TaskRef,
} from "./task.ts";
export { transfer } from "./transfer.ts";
export {
  imap,
  map,
  MapFailure,
  type MapInputs,
  type MapOptions,
  type MapProgress,
  type MapValue,
} from "./shapes/map.ts";
export { log, type LogLevel } from "./log.ts";
export {
  ProcessQueue,
  type ProcessQueueOptions,
} from "./shapes/process_queue.ts";
export {
  Consumer,
  IterableQueue,
  Producer,
  QueueDoneError,
} from "./shapes/iterable_queue.ts";
export {
  Feeder,
  type FeederOptions,
  type FeederResult,
  type FeederSettings,
  feederSettings,
  type FeederStats,
} from "./shapes/feeder.ts";
export {
  Pool,
  type PoolBackoff,
  type PoolMapOptions,
  type PoolOptions,
  type PoolPercentiles,
  type PoolRunOptions,
  type PoolStats,
} from "./shapes/pool.ts";
export type { PoolTaskHandle } from "./shapes/pool_handle.ts";
export { taskProgress, taskSignal } from "./worker/task_signal.ts";
export { WorkerError, type WorkerFailure } from "./errors.ts";

/**
 * The number of logical CPUs of this machine: a good number of workers for
 * CPU-bound work.
 * @example
 * ```ts
 * import { NUM_CPUS } from "@workq/workq";
 * console.log(NUM_CPUS >= 1); // true
 * ```
 */
export const NUM_CPUS: number = runtime.cpus;

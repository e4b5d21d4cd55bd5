/**
 * The one place that chooses the runtime family, by capability, once.
 * @module
 */
import type { Runtime } from "./types.ts";
import { webRuntime } from "./web.ts";

export type {
  Endpoint,
  Runtime,
  Signal,
  WorkerEvents,
  WorkerPort,
  WorkerScope,
} from "./types.ts";

// Bun (and browsers) get Web Workers; Node has only worker_threads, which
// is imported lazily so that the Web Worker path never loads a `node:`
// module. Deno has both and gets worker_threads, wherever workq was loaded
// from (file:, or https: from JSR): its Web Workers cannot be stopped in a
// busy loop (terminate() leaves the thread spinning and the process never
// exits) and never report their end, while its worker_threads can and do.
// (A Deno task with narrowed permissions needs a Web Worker: node.ts runs
// it on worker_threads inside one.)
const g = globalThis as { Worker?: unknown; Deno?: unknown };
const useWebWorkers = typeof g.Worker === "function" && g.Deno === undefined;

/** The runtime family of this process, chosen once. */
export const runtime: Runtime = useWebWorkers
  ? webRuntime
  : (await import("./node.ts")).nodeRuntime;

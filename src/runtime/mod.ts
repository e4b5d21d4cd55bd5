/**
 * The one place that chooses the runtime family, by capability, once.
 * @module
 */
import type { Runtime } from "./types.ts";
import { webRuntime } from "./web.ts";

export type {
  Endpoint,
  Runtime,
  WorkerEvents,
  WorkerPort,
  WorkerScope,
} from "./types.ts";

// Deno and Bun have a global module Worker; Node has only worker_threads,
// which is imported lazily so that the web path never loads a `node:` module.
/** The runtime family of this process, chosen once. */
export const runtime: Runtime =
  typeof (globalThis as { Worker?: unknown }).Worker === "function"
    ? webRuntime
    : (await import("./node.ts")).nodeRuntime;

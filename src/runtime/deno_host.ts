/**
 * The Web Worker that holds a Deno task with narrowed permissions. Deno
 * narrows only Web Workers, and cannot stop one in a busy loop; so the task
 * runs on a `node:worker_threads` worker started here, which inherits this
 * thread's narrowed permissions and can be stopped (measured on Deno
 * 2.9.6). This thread only starts it, reports its errors and exit, and
 * stops it when asked; the task talks to its parent over a MessagePort.
 * @module
 */
import { Worker } from "node:worker_threads";

// The key of the task's port in the inner worker's `workerData` (node.ts
// spells it too).
const PARENT_PORT = "workq:parent-port";

/** Parent to host. */
export type HostCommand =
  | { t: "start"; module: string; name: string; port: MessagePort }
  | { t: "stop" };

/** Host to parent. */
export type HostReport =
  | {
    t: "error";
    error: { name: string; message: string; stack?: string };
    memory: boolean;
  }
  | { t: "exit"; code: number }
  | { t: "stopped" };

// deno-lint-ignore no-explicit-any
const self = globalThis as any;
const report = (message: HostReport) => self.postMessage(message);
let inner: Worker | undefined;

self.onmessage = async (event: MessageEvent<HostCommand>) => {
  const command = event.data;
  if (command.t === "start") {
    inner = new Worker(new URL(command.module), {
      name: command.name,
      workerData: { [PARENT_PORT]: command.port },
      transferList: [command.port as never],
    });
    inner.on("error", (error: Error & { code?: string }) => {
      report({
        t: "error",
        error: { name: error.name, message: error.message, stack: error.stack },
        memory: error.code === "ERR_WORKER_OUT_OF_MEMORY",
      });
    });
    inner.on("exit", (code) => report({ t: "exit", code }));
  } else if (command.t === "stop") {
    await inner?.terminate();
    report({ t: "stopped" });
  }
};

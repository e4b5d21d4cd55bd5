/**
 * `node:worker_threads`, for Node (which has no global `Worker`).
 * @module
 */
import { availableParallelism } from "node:os";
import process from "node:process";
import { parentPort, Worker } from "node:worker_threads";
import type {
  Endpoint,
  ResourceLimits,
  Runtime,
  WorkerEvents,
  WorkerPort,
  WorkerScope,
} from "./types.ts";
import { hookSelfExit } from "./self_exit.ts";
import { onSignal } from "./signal.ts";

const READY = "workq:ready";
const READY_BOUND_MS = 5000;

// Deno runs worker_threads too, but stalls silently at a heap limit; its
// workers print straight to the process (nothing to flush before stopping
// them) and do not end by themselves when their port closes.
const pipesConsole = !("Deno" in globalThis);
// Deno runs worker_threads too, but stalls silently at a heap limit.
const honoursLimits = !("Deno" in globalThis);

// worker_threads load only file: and data: modules: a worker module from
// anywhere else (https: when Deno loads workq from JSR) is imported by a
// data: module, which Deno's worker_threads accept and can still terminate
// in a busy loop (measured on Deno 2.9.6).
function workerModule(url: URL): URL {
  if (url.protocol === "file:" || url.protocol === "data:") return url;
  return new URL(
    `data:text/javascript,import ${
      encodeURIComponent(JSON.stringify(url.href))
    };`,
  );
}

function spawn(
  url: URL,
  name: string,
  events: WorkerEvents,
  limits?: ResourceLimits,
): WorkerPort {
  const worker = new Worker(workerModule(url), {
    name,
    resourceLimits: honoursLimits ? limits : undefined,
  });
  // Without an "error" listener an error in the worker kills the parent.
  worker.on("error", (error: Error & { code?: string }) => {
    events.error(error, error.code === "ERR_WORKER_OUT_OF_MEMORY");
  });
  worker.on("messageerror", () => {
    events.error(
      new Error("a message from the worker could not be deserialized"),
    );
  });
  let exited = false;
  worker.on("exit", (code) => {
    exited = true;
    events.exit(code);
  });
  // Terminating a worker while it evaluates modules (its own, with the
  // adapter's top-level await, or the task's) can abort the whole process on
  // Node 22 (V8 "Check failed: (location_) != nullptr"): wait until the
  // worker says its task is loaded, or it has ended, or a bound has passed.
  let ready = false;
  const readyOrGone = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, READY_BOUND_MS);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    worker.once("exit", done);
    worker.once("error", done);
    worker.on("message", (data) => {
      if (data === READY) {
        ready = true;
        done();
      }
    });
  });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer as never),
    listen: (handler) => {
      worker.on("message", (data) => {
        if (data !== READY) handler(data);
      });
    },
    terminate: async () => {
      if (!ready && !exited) await readyOrGone;
      await worker.terminate();
    },
    retire: (graceMs) => {
      if (exited) return Promise.resolve();
      if (!pipesConsole) return worker.terminate().then(() => {});
      return new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => worker.terminate().then(() => resolve(), () => resolve()),
          graceMs,
        );
        worker.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

function workerScope(): WorkerScope {
  const port = parentPort;
  if (!port) {
    throw new Error("Cannot start a workq worker: this thread is not a worker");
  }
  const parent: Endpoint = {
    post: (message, transfer) => port.postMessage(message, transfer as never),
    listen: (handler) => {
      port.on("message", handler);
    },
  };
  return {
    parent,
    onUncaught(handler) {
      process.on("uncaughtException", handler);
      process.on("unhandledRejection", handler);
    },
    // Closing the parent port lets the event loop empty, so the thread exits
    // by itself and its console output is flushed first.
    done() {
      port.close();
    },
    loaded() {
      port.postMessage(READY);
    },
    onSelfExit: hookSelfExit,
  };
}

type NodePort = MessagePort & {
  on?(event: "message", handler: (data: unknown) => void): void;
  off(event: "message", handler: (data: unknown) => void): void;
};

// Node's ports deliver data to `on("message")` directly; `onmessage` would
// build a MessageEvent per message (and load undici for it in every thread).
// Deno's global MessageChannel has only the web interface.
function listenPort(
  port: MessagePort,
  handler: (data: unknown) => void,
): () => void {
  const p = port as NodePort;
  if (typeof p.on !== "function") {
    port.onmessage = (event: MessageEvent) => handler(event.data);
    return () => {
      port.onmessage = null;
    };
  }
  p.on("message", handler);
  return () => p.off("message", handler);
}

/** The `node:worker_threads` runtime family. */
export const nodeRuntime: Runtime = {
  listenPort,
  family: "node",
  cpus: availableParallelism(),
  spawn,
  workerScope,
  onSignal,
  env(name) {
    // Deno without --allow-env throws: an unreadable variable is an unset one.
    try {
      return process.env[name];
    } catch {
      return undefined;
    }
  },
  envDenied(name) {
    try {
      void process.env[name];
      return false;
    } catch {
      return true;
    }
  },
  terminal() {
    return process.stderr.isTTY
      ? (text) => process.stderr.write(text)
      : undefined;
  },
};

/**
 * `node:worker_threads`, for Node (which has no global `Worker`).
 * @module
 */
import type * as Os from "node:os";
import type * as Process from "node:process";
import type * as WorkerThreads from "node:worker_threads";
import type {
  DenoPermissions,
  Endpoint,
  ResourceLimits,
  Runtime,
  WorkerEvents,
  WorkerPort,
  WorkerScope,
} from "./types.ts";
import { hookSelfExit } from "./self_exit.ts";
import type { HostCommand, HostReport } from "./deno_host.ts";
import { onSignal, raiseSignal, signalListeners } from "./signal.ts";

// The built-ins come from process.getBuiltinModule (Node 22.3+, Bun, Deno),
// not from `node:` imports: mod.ts imports this module lazily, and a bundler
// building for browsers follows that import. With no `node:` specifier here
// it bundles this file as plain code, which a browser never runs.
const builtin = (id: string) =>
  (globalThis as unknown as {
    process: { getBuiltinModule(id: string): unknown };
  }).process.getBuiltinModule(id);
const { availableParallelism } = builtin("node:os") as typeof Os;
const process = builtin("node:process") as typeof Process;
const { parentPort, Worker, workerData } = builtin(
  "node:worker_threads",
) as typeof WorkerThreads;

// deno_host.ts's key, spelt again: importing that module would run it here.
const PARENT_PORT = "workq:parent-port";
const STOP_BOUND_MS = 5000;
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const hostModule = new URL(`./deno_host${ext}`, import.meta.url);

const READY = "workq:ready";
const READY_BOUND_MS = 5000;

// Deno runs worker_threads too, but stalls silently at a heap limit; its
// workers print straight to the process (nothing to flush before stopping
// them) and do not end by themselves when their port closes.
const pipesConsole = !("Deno" in globalThis);
// Deno runs worker_threads too, but stalls silently at a heap limit
// (measured on Deno 2.9.6: no message, no error, no exit): the option is
// refused there rather than passed.
const isDeno = "Deno" in globalThis;

// worker_threads load only file: and data: modules: a worker module from
// anywhere else (https: when Deno loads workq from JSR) is imported by a
// data: module, which Deno's worker_threads accept and can still terminate
// in a busy loop (measured on Deno 2.9.6).
function workerModule(url: URL): URL {
  if (url.protocol === "file:" || url.protocol === "data:") return url;
  return trampoline(url);
}

function trampoline(url: URL): URL {
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
  permissions?: DenoPermissions,
): WorkerPort {
  if (permissions !== undefined && isDeno) {
    return spawnNarrowed(url, name, events, permissions);
  }
  const worker = new Worker(workerModule(url), {
    name,
    resourceLimits: isDeno ? undefined : limits,
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

// Deno's worker_threads always inherit the parent's permissions; only its
// Web Workers take narrowed ones, and those cannot be stopped in a busy
// loop. So a narrowed task runs on a worker_threads worker inside a
// narrowed Web Worker (deno_host.ts): it inherits the narrowed permissions
// and stops when told. It talks to this thread over a MessageChannel; the
// host reports its errors and exit, and stops it before it is let go.
function spawnNarrowed(
  url: URL,
  name: string,
  events: WorkerEvents,
  permissions: DenoPermissions,
): WorkerPort {
  // Deno exits (code 70) here without --unstable-worker-options.
  const host = new globalThis.Worker(hostModule.href, {
    type: "module",
    name: `${name} (host)`,
    deno: { permissions },
  } as WorkerOptions);
  const { port1, port2 } = new MessageChannel();
  let stopped: () => void = () => {};
  let exited = false;
  host.onerror = (event: ErrorEvent) => {
    // Without preventDefault an error in a Deno worker kills the parent.
    event.preventDefault();
    events.error(event.error ?? new Error(event.message));
  };
  host.onmessage = (event: MessageEvent<HostReport>) => {
    const report = event.data;
    if (report.t === "stopped") return stopped();
    if (report.t === "exit") {
      exited = true;
      return events.exit(report.code);
    }
    const error = new Error(report.error.message);
    error.name = report.error.name;
    if (report.error.stack) error.stack = report.error.stack;
    events.error(error, report.memory);
  };
  const start: HostCommand = {
    t: "start",
    module: trampoline(url).href,
    name,
    port: port2,
  };
  host.postMessage(start, [port2]);
  let ready = false;
  let onReady: () => void = () => {};
  const readyOrGone = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, READY_BOUND_MS);
    onReady = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  let handler: (data: unknown) => void = () => {};
  port1.onmessage = (event: MessageEvent) => {
    if (event.data === READY) {
      ready = true;
      onReady();
    } else handler(event.data);
  };
  let gone: Promise<void> | undefined;
  const stop = () =>
    gone ??= (async () => {
      // As for worker_threads: not while its modules are being evaluated.
      if (!ready && !exited) await readyOrGone;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STOP_BOUND_MS);
        stopped = () => {
          clearTimeout(timer);
          resolve();
        };
        host.postMessage({ t: "stop" } satisfies HostCommand);
      });
      port1.close();
      host.terminate();
    })();
  return {
    post: (message, transfer) => port1.postMessage(message, transfer ?? []),
    listen: (h) => {
      handler = h;
    },
    terminate: stop,
    retire: stop,
  };
}

// A narrowed task's parent is a MessagePort in its workerData (see above).
function narrowedScope(port: MessagePort): WorkerScope {
  return {
    parent: {
      post: (message, transfer) => port.postMessage(message, transfer ?? []),
      listen: (handler) => {
        listenPort(port, handler);
      },
    },
    onUncaught(handler) {
      process.on("uncaughtException", handler);
      process.on("unhandledRejection", handler);
    },
    done() {},
    loaded() {
      port.postMessage(READY);
    },
    onSelfExit: hookSelfExit,
  };
}

function workerScope(): WorkerScope {
  const port = parentPort;
  const given = (workerData as Record<string, unknown> | null)?.[PARENT_PORT];
  if (given) return narrowedScope(given as MessagePort);
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
  name: isDeno ? "Deno" : "Node",
  honoursLimits: !isDeno,
  narrows: isDeno,
  cpus: availableParallelism(),
  spawn,
  workerScope,
  onSignal,
  raiseSignal,
  signalListeners,
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

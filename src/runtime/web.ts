/**
 * Web Workers, as Bun and browsers provide them (Deno takes worker_threads: see mod.ts).
 * @module
 */
import type {
  Endpoint,
  Runtime,
  WorkerEvents,
  WorkerPort,
  WorkerScope,
} from "./types.ts";
import { fetchCause } from "./fetch_cause.ts";
import { hookSelfExit } from "./self_exit.ts";
import { onSignal, raiseSignal, signalListeners } from "./signal.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/**
 * The URL to start a worker from. A browser refuses a worker script from
 * another origin (workq loaded from a CDN) with a SecurityError, whatever
 * its CORS headers; a same-origin `blob:` module that imports the real
 * entry is allowed, and the entry keeps its own URL (its imports resolve
 * against it). Returns the URL and what to call once the worker has it.
 */
function startUrl(url: URL): [string, () => void] {
  const here = (globalThis as Any).location?.origin;
  if (!here || url.protocol === "blob:" || url.origin === here) {
    return [url.href, () => {}];
  }
  const blob = new Blob([`import ${JSON.stringify(url.href)};\n`], {
    type: "text/javascript",
  });
  const href = URL.createObjectURL(blob);
  return [href, () => URL.revokeObjectURL(href)];
}

function spawn(url: URL, name: string, events: WorkerEvents): WorkerPort {
  const [href, revoke] = startUrl(url);
  let worker: Worker;
  try {
    worker = new Worker(href, { type: "module", name });
  } finally {
    // The Worker constructor has resolved the blob: URL by now (the HTML
    // standard takes its entry when parsing the URL), so it can go.
    revoke();
  }
  // Without preventDefault an error in a Deno worker kills the parent.
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    if (event.error || event.message) {
      events.error(event.error ?? new Error(event.message));
      return;
    }
    // A bare event: the browser could not load the worker's script.
    void fetchCause(url.href).then((cause) =>
      events.unloaded(
        new Error(`its script ${url.href} could not be loaded: ${cause}`),
      )
    );
  };
  worker.onmessageerror = () => {
    events.error(
      new Error("a message from the worker could not be deserialized"),
    );
  };
  // Bun reports the end of a worker thread; Deno never does.
  worker.addEventListener("close", (event: Event) => {
    events.exit((event as Any).code ?? 0);
  });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer ?? []),
    listen: (handler) => {
      worker.onmessage = (event: MessageEvent) => handler(event.data);
    },
    terminate: () => {
      worker.terminate();
      return Promise.resolve();
    },
    // A Web Worker's console writes straight to the process: nothing to wait for.
    retire: () => {
      worker.terminate();
      return Promise.resolve();
    },
  };
}

function workerScope(): WorkerScope {
  const self: Any = globalThis;
  const parent: Endpoint = {
    post: (message, transfer) => self.postMessage(message, transfer ?? []),
    listen: (handler) => {
      self.onmessage = (event: MessageEvent) => handler(event.data);
    },
  };
  return {
    parent,
    onUncaught(handler) {
      self.addEventListener("error", (event: ErrorEvent) => {
        event.preventDefault();
        handler(event.error ?? new Error(event.message));
      });
      self.addEventListener("unhandledrejection", (event: Any) => {
        event.preventDefault();
        handler(event.reason);
      });
    },
    done() {},
    loaded() {},
    onSelfExit: hookSelfExit,
  };
}

function env(name: string): string | undefined {
  const g = globalThis as Any;
  try {
    return g.Deno?.env?.get(name) ?? g.process?.env?.[name];
  } catch {
    return undefined; // Deno without --allow-env
  }
}

function envDenied(name: string): boolean {
  const g = globalThis as Any;
  try {
    void (g.Deno?.env?.get(name) ?? g.process?.env?.[name]);
    return false;
  } catch {
    return true;
  }
}

function terminal(): ((text: string) => void) | undefined {
  const g = globalThis as Any;
  if (g.Deno?.stderr?.isTerminal?.()) {
    const encoder = new TextEncoder();
    return (text) => g.Deno.stderr.writeSync(encoder.encode(text));
  }
  if (g.process?.stderr?.isTTY) return (text) => g.process.stderr.write(text);
  return undefined;
}

function listenPort(
  port: MessagePort,
  handler: (data: unknown) => void,
): () => void {
  port.onmessage = (event: MessageEvent) => handler(event.data);
  return () => {
    port.onmessage = null;
  };
}

const g = globalThis as Any;

/** The Web Worker runtime family. */
export const webRuntime: Runtime = {
  name: g.Bun ? "Bun" : g.Deno ? "Deno" : "this runtime",
  // Measured on Bun 1.4.5 and Deno 2.9.6: a Web Worker given resourceLimits
  // allocates past them; the option is refused rather than ignored.
  honoursLimits: false,
  narrows: false,
  listenPort,
  onSignal,
  raiseSignal,
  signalListeners,
  env,
  envDenied,
  terminal,
  family: "web",
  // Read when asked: on Node, which loads this module too, the first read
  // of `navigator` loads Node's navigator module (1.5 ms at import).
  get cpus(): number {
    return (globalThis as Any).navigator?.hardwareConcurrency ?? 1;
  },
  spawn,
  workerScope,
};

/**
 * The one interface the rest of workq sees. Each runtime family implements
 * it in its own file; `mod.ts` beside this file picks one, once.
 * @module
 */

/** A signal workq's shapes stop on: SIGINT (Ctrl-C) or SIGTERM. */
export type Signal = "SIGINT" | "SIGTERM";

/** Heap limits of a worker, in MiB. */
export interface ResourceLimits {
  maxOldGenerationSizeMb?: number;
  maxYoungGenerationSizeMb?: number;
  stackSizeMb?: number;
}

/**
 * What a Deno worker may do, as Deno's Worker option `deno.permissions`
 * takes it: `"inherit"` (the parent's), `"none"`, or per permission `true`
 * (the parent's), `false` (none) or a list of what is allowed (paths, hosts,
 * commands, variable names); a permission left out is none.
 *
 * @example
 * ```ts
 * import type { DenoPermissions } from "@workq/workq";
 * const readOnly: DenoPermissions = { read: ["./data/"], net: false };
 * console.log(Object.keys(readOnly)); // ["read", "net"]
 * ```
 */
export type DenoPermissions =
  | "inherit"
  | "none"
  | Partial<Record<DenoPermissionName, boolean | "inherit" | (string | URL)[]>>;

/**
 * The permissions a Deno worker can be narrowed on.
 *
 * @example
 * ```ts
 * import type { DenoPermissionName } from "@workq/workq";
 * const denied: DenoPermissionName[] = ["net", "run"];
 * console.log(denied.length); // 2
 * ```
 */
export type DenoPermissionName =
  | "env"
  | "ffi"
  | "import"
  | "net"
  | "read"
  | "run"
  | "sys"
  | "write";

/** A message endpoint: a worker seen from its parent, or the parent seen from a worker. */
export interface Endpoint {
  /** Posts a message; throws synchronously when a value cannot be cloned. */
  post(message: unknown, transfer?: Transferable[]): void;
  /** Sets the single handler for incoming messages. */
  listen(handler: (data: unknown) => void): void;
}

/** What the parent learns about a worker besides its messages. */
export interface WorkerEvents {
  /**
   * An error escaped the worker (already kept from killing the parent);
   * `memory` when the runtime says the worker ran out of memory.
   */
  error(error: unknown, memory?: boolean): void;
  /**
   * The worker's script could not be loaded (a browser's bare `error`
   * event): its thread never ran, a failed start like a failed spawn.
   */
  unloaded(error: Error): void;
  /** The worker's thread ended, where the runtime reports it. */
  exit(code: number): void;
}

/** A running worker thread, seen from its parent. */
export interface WorkerPort extends Endpoint {
  /** Stops the thread; resolves once the runtime has let it go. */
  terminate(): Promise<void>;
  /**
   * Lets a worker whose task is over end: where its output is still on the
   * way to the parent (Node pipes a worker's console asynchronously), it is
   * given `graceMs` to exit by itself before it is terminated.
   */
  retire(graceMs: number): Promise<void>;
}

/** The worker side: how a worker talks to its parent and reports trouble. */
export interface WorkerScope {
  readonly parent: Endpoint;
  /** Calls `handler` for errors and rejections that no code caught. */
  onUncaught(handler: (error: unknown) => void): void;
  /**
   * Calls `handler` just before the worker ends itself (`close()`,
   * `process.exit()`, `Deno.exit()`), which some runtimes never report.
   */
  onSelfExit(handler: (code: number) => void): void;
  /** The task is over and reported: let the thread end by itself if it can. */
  done(): void;
  /** The task's module is loaded (or failed to): the thread may be stopped safely. */
  loaded(): void;
}

/** A runtime family: Web Workers (Deno, Bun) or `node:worker_threads`. */
export interface Runtime {
  /** Which family this is, for messages and benchmarks only. */
  readonly family: "web" | "node";
  /** The runtime's name ("Deno", "Bun", "Node", "this runtime"), for messages. */
  readonly name: string;
  /** Logical CPUs of this machine. */
  readonly cpus: number;
  /** Whether workers honour heap limits (measured: Node only). */
  readonly honoursLimits: boolean;
  /** Whether a worker's permissions can be narrowed (Deno only). */
  readonly narrows: boolean;
  /**
   * Starts a module worker; `events` get errors and exits. `limits` and
   * `permissions` are given only where the runtime honours them.
   */
  spawn(
    url: URL,
    name: string,
    events: WorkerEvents,
    limits?: ResourceLimits,
    permissions?: DenoPermissions,
  ): WorkerPort;
  /**
   * Delivers a MessagePort's messages to `handler` (the data only); returns
   * what stops it.
   */
  listenPort(port: MessagePort, handler: (data: unknown) => void): () => void;
  /** The scope of the current thread when it is a worker. */
  workerScope(): WorkerScope;
  /**
   * Calls `handler` on `signal` instead of the default exit, until the
   * returned function is called; where there are no signals (a browser),
   * never.
   */
  onSignal(signal: Signal, handler: () => void): () => void;
  /**
   * How many listeners of `signal` workq can see (on Deno only those given
   * to `onSignal`; on Node and Bun every `process.on` one too).
   */
  signalListeners(signal: Signal): number;
  /** Sends `signal` to this process (its default ends it when no one listens). */
  raiseSignal(signal: Signal): void;
  /** An environment variable, or `undefined` (also where reading it is not allowed). */
  env(name: string): string | undefined;
  /** Whether reading environment variable `name` is not allowed (Deno without `--allow-env`). */
  envDenied(name: string): boolean;
  /** Writes to standard error when it is a terminal; `undefined` otherwise. */
  terminal(): ((text: string) => void) | undefined;
}

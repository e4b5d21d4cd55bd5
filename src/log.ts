/**
 * `log()`: a message from a task to whoever runs it.
 * @module
 */

/** The level of a log message. */
export type LogLevel = "debug" | "log" | "info" | "warn" | "error";

type Sink = (level: LogLevel, message: string) => void;

const toConsole: Sink = (level, message) => console[level](message);
let sink: Sink = toConsole;

/** @internal Routes `log()` (and the console, in a map worker) elsewhere; returns the previous sink. */
export function setLogSink(next: Sink | undefined): Sink {
  const previous = sink;
  sink = next ?? toConsole;
  return previous;
}

/**
 * Logs a message. Inside a worker of {@linkcode map} or {@linkcode imap} it
 * reaches the main thread with the input's offset (see `onMessage`);
 * elsewhere it goes to the console.
 *
 * @param message What to say.
 * @param level How loud. @default "info"
 * @throws {TypeError} When `level` is not a known level.
 * @example
 * ```ts
 * import { log } from "@workq/workq";
 * log("starting", "info");
 * ```
 */
export function log(message: unknown, level: LogLevel = "info"): void {
  if (!["debug", "log", "info", "warn", "error"].includes(level)) {
    throw new TypeError(
      `Cannot log: level must be debug, log, info, warn or error, received ${
        String(level)
      }`,
    );
  }
  sink(level, typeof message === "string" ? message : String(message));
}

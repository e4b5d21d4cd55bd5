/**
 * Connections to Redis: a URL checked before anything is sent, a connect
 * that fails fast with a message naming the server (never an endless retry
 * loop on a bad URL or a server that is down), and the Lua scripts the
 * transport relies on, loaded once per connection.
 * @module
 */
import { Redis } from "ioredis";

/** A connected client. */
export type Client = Redis;

/** Options of {@linkcode connect}. */
export interface ConnectOptions {
  /** Give up connecting after this many milliseconds. @default 5000 */
  connectTimeout?: number;
  /** A name shown by `CLIENT LIST`, for debugging. */
  clientName?: string;
}

/**
 * Checks a Redis URL: `redis://` or `rediss://`, with a host.
 * @throws {TypeError} When it is not such a URL.
 */
export function checkUrl(url: unknown): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(String(url));
  } catch {
    // reported below
  }
  if (
    typeof url !== "string" || !parsed ||
    (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") ||
    parsed.hostname === ""
  ) {
    throw new TypeError(
      `Cannot open a Redis queue: the URL must look like redis://host:6379 or rediss://host:6380, received ${
        JSON.stringify(String(url))
      }`,
    );
  }
  return parsed;
}

/** The URL without its password, for messages. */
export function showUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return url;
  }
}

/**
 * Connects, or rejects with an `Error` naming the server and the cause
 * once the connect timeout has passed or the server refused.
 * @throws {TypeError} When the URL is malformed.
 * @throws {Error} When the server cannot be reached.
 */
export async function connect(
  url: string,
  options: ConnectOptions = {},
): Promise<Client> {
  checkUrl(url);
  const timeout = options.connectTimeout ?? 5000;
  let lastError: Error | undefined;
  let connected = false;
  const client = new Redis(url, {
    lazyConnect: true,
    // RESP2: the reply shapes this folder parses, on any server version.
    protocol: 2,
    connectTimeout: timeout,
    // Fail fast while connecting; once connected, ride out short outages.
    retryStrategy: (times: number) =>
      connected && times <= 20 ? Math.min(times * 100, 1000) : null,
    maxRetriesPerRequest: 3,
    connectionName: options.clientName,
  });
  // Without a listener, the client prints every error on its own.
  client.on("error", (error: Error) => (lastError = error));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${timeout} ms`)),
          timeout + 100,
        );
      }),
    ]);
    await client.ping();
    connected = true;
  } catch (error) {
    client.disconnect();
    const cause = lastError ?? error;
    throw new Error(
      `Cannot connect to Redis at ${showUrl(url)}: ${
        cause instanceof Error ? cause.message || cause.name : String(cause)
      }`,
      { cause },
    );
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** A Lua script, run by its SHA once loaded. */
export class Script {
  readonly lua: string;
  readonly keys: number;
  #sha: string | undefined;

  constructor(lua: string, keys: number) {
    this.lua = lua;
    this.keys = keys;
  }

  /** Runs the script; loads it again if the server forgot it (restart). */
  async run(
    client: Client,
    keys: string[],
    args: (string | number | Uint8Array)[],
  ): Promise<unknown> {
    const rest = [...keys, ...args] as (string | number | Buffer)[];
    if (this.#sha) {
      try {
        return await client.callBuffer("EVALSHA", [
          this.#sha,
          this.keys,
          ...rest,
        ]);
      } catch (error) {
        if (!String((error as Error).message).startsWith("NOSCRIPT")) {
          throw error;
        }
      }
    }
    this.#sha = String(await client.call("SCRIPT", ["LOAD", this.lua]));
    return await client.callBuffer("EVALSHA", [this.#sha, this.keys, ...rest]);
  }
}

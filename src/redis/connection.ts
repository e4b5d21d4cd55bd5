/**
 * Connections to Redis: a URL checked before anything is sent, a connect
 * that fails fast with a message naming the server (never an endless retry
 * loop on a bad URL or a server that is down), and the Lua scripts the
 * transport relies on, loaded once per connection.
 * @module
 */
import type { Redis } from "ioredis";
import { deniedFlag } from "../runtime/denied.ts";
import { show } from "../validate.ts";

/** A connected client. */
export type Client = Redis;

/** Options of {@linkcode connect}. */
export interface ConnectOptions {
  /** Give up connecting after this many milliseconds. @default 5000 */
  connectTimeout?: number;
  /** A name shown by `CLIENT LIST`, for debugging. */
  clientName?: string;
}

/** Where a checked URL points, and how to log in: the client's options. */
export interface Address {
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  db: number;
  tls: boolean;
}

const FORM =
  "the URL must look like redis://host:6379, redis://user:password@host:6379/0 or rediss://host:6380 (TLS)";

function badUrl(url: unknown, why: string): TypeError {
  return new TypeError(
    `Cannot open a Redis queue: ${why}; received ${
      typeof url === "string" ? JSON.stringify(redact(url)) : show(url)
    }`,
  );
}

/**
 * A URL or any text that may hold one, with its user info (`user:password@`)
 * replaced by `***`: error messages never carry a password, even for a URL
 * too malformed to parse.
 */
export function redact(text: string): string {
  const scheme = text.indexOf("://");
  const from = scheme >= 0 ? scheme + 3 : 0;
  const at = text.lastIndexOf("@");
  return at >= from ? `${text.slice(0, from)}***${text.slice(at)}` : text;
}

/**
 * Checks a Redis URL — `redis://` or `rediss://`, a host, a port in
 * 1..65535, an optional database number as the path, no query, no
 * fragment — and returns what the client is given. Everything is checked
 * here, before a client exists, so that nothing the client would do with
 * a bad URL (a `SELECT NaN` on connect, say) can escape as an unhandled
 * rejection.
 * @throws {TypeError} When it is not such a URL; the message has the URL
 * with its password (and user) replaced by `***`.
 */
export function checkUrl(url: unknown): Address {
  if (typeof url !== "string") throw badUrl(url, FORM);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badUrl(url, `${FORM} (it does not parse; is the port in 1..65535?)`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw badUrl(url, `${FORM} (the scheme is ${parsed.protocol})`);
  }
  if (parsed.hostname === "") throw badUrl(url, `${FORM} (it has no host)`);
  const port = parsed.port === "" ? 6379 : Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw badUrl(url, `the port must be in 1..65535, not ${parsed.port}`);
  }
  const path = parsed.pathname;
  if (path !== "" && path !== "/" && !/^\/\d{1,9}$/.test(path)) {
    throw badUrl(
      url,
      `the path must be a database number such as /0, not ${
        JSON.stringify(path)
      }`,
    );
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw badUrl(
      url,
      "options in the URL's query or fragment are not supported (give the database as the path, /N)",
    );
  }
  let username: string | undefined, password: string | undefined;
  try {
    username = parsed.username
      ? decodeURIComponent(parsed.username)
      : undefined;
    password = parsed.password
      ? decodeURIComponent(parsed.password)
      : undefined;
  } catch {
    throw badUrl(url, "the user or password is not validly %-encoded");
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    username,
    password,
    db: path.length > 1 ? Number(path.slice(1)) : 0,
    tls: parsed.protocol === "rediss:",
  };
}

/** The URL without its password, for messages. */
export function showUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return redact(url);
  }
}

// Loaded by the first connect, not at import: on Deno without --allow-env
// the client's import throws (a dependency lists the environment), and that
// must be a rejection naming the flag, not a crash of the importing program.
let loaded: Promise<typeof Redis> | undefined;

async function clientClass(url: string): Promise<typeof Redis> {
  try {
    return await (loaded ??= import("ioredis").then((m) => m.Redis));
  } catch (error) {
    const denied = deniedFlag(error);
    const why = denied
      ? ` (${denied.reason}): run again with ${denied.flag}`
      : `: ${(error as Error)?.message ?? String(error)}`;
    throw new Error(
      `Cannot connect to Redis at ${
        showUrl(url)
      }: the Redis client (ioredis) cannot load${why}`,
      { cause: error },
    );
  }
}

/**
 * Connects, or rejects with an `Error` naming the server and the cause
 * once the connect timeout has passed or the server refused (a database
 * number the server does not have, say).
 * @throws {TypeError} When the URL is malformed.
 * @throws {Error} When the server cannot be reached.
 */
export async function connect(
  url: string,
  options: ConnectOptions = {},
): Promise<Client> {
  const address = checkUrl(url);
  const timeout = options.connectTimeout ?? 5000;
  let lastError: Error | undefined;
  let connected = false;
  const Redis = await clientClass(url);
  const client = new Redis({
    host: address.host,
    port: address.port,
    username: address.username,
    password: address.password,
    // Selected below, where a refusal is this call's error.
    db: 0,
    ...(address.tls ? { tls: {} } : {}),
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
    // The client re-selects it by itself after a reconnect.
    if (address.db !== 0) await client.select(address.db);
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

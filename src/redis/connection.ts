/**
 * Connections to Redis: a URL and credentials checked before anything is
 * sent, a connect that fails fast with a message naming the server and
 * what to do (never an endless retry loop on a bad URL or a server that is
 * down), errors that never carry the password, and the Lua scripts the
 * transport relies on, loaded once per connection.
 * @module
 */
import { Buffer } from "node:buffer";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import type { Redis, RedisOptions } from "ioredis";
import { deniedFlag } from "../runtime/denied.ts";
import * as v from "../validate.ts";
import { cleanError, redact, scrub, secretForms, showUrl } from "./secrets.ts";

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
 * How a `rediss://` connection trusts the server (and, when the server asks
 * for one, shows a client certificate): PEM text or bytes, as Node's
 * `tls.connect` takes them.
 */
export interface RedisTlsOptions {
  /** The CA certificate(s) that signed the server's; the system's by default. */
  ca?: string | Uint8Array | (string | Uint8Array)[];
  /** A client certificate, for a server with `tls-auth-clients yes`. */
  cert?: string | Uint8Array;
  /** The private key of `cert`. */
  key?: string | Uint8Array;
  /** The name the server's certificate must have; the URL's host by default. */
  servername?: string;
}

/** The credentials and TLS settings given beside a URL. */
export interface ServerOptions {
  /** An ACL user, instead of one in the URL. */
  username?: string;
  /** The password, instead of one in the URL. */
  password?: string;
  /** TLS settings of a `rediss://` URL. */
  tls?: RedisTlsOptions;
}

/**
 * A checked server: where it is, how to log in, and the password's forms
 * to scrub from any text shown. Its `url` is for messages: it has no
 * password.
 */
export interface Server {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: RedisTlsOptions | undefined;
  readonly secrets: readonly string[];
}

const FORM =
  "the URL must look like redis://host:6379, redis://user:password@host:6379/0 or rediss://host:6380 (TLS)";

function badUrl(what: string, url: unknown, why: string): TypeError {
  return new TypeError(
    `Cannot ${what}: ${why}; received ${
      typeof url === "string" ? JSON.stringify(redact(url)) : v.show(url)
    }`,
  );
}

const TLS_KEYS = ["ca", "cert", "key", "servername"] as const;

function pem(what: string, name: string, value: unknown): void {
  if (
    value !== undefined && typeof value !== "string" &&
    !(value instanceof Uint8Array)
  ) {
    throw new TypeError(
      `Cannot ${what}: ${name} must be PEM text or bytes, received ${
        v.show(value)
      }`,
    );
  }
}

function tlsOptions(
  what: string,
  value: unknown,
): RedisTlsOptions | undefined {
  if (value === undefined) return undefined;
  const given = v.options(what, "options.tls", value as object, TLS_KEYS);
  const tls = given as RedisTlsOptions;
  const cas = Array.isArray(tls.ca) ? tls.ca : [tls.ca];
  cas.forEach((ca) => pem(what, "options.tls.ca", ca));
  pem(what, "options.tls.cert", tls.cert);
  pem(what, "options.tls.key", tls.key);
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TypeError(
      `Cannot ${what}: options.tls.cert and options.tls.key go together`,
    );
  }
  v.string(what, "options.tls.servername", tls.servername, "");
  return { ...tls };
}

/**
 * Checks a Redis URL — `redis://` or `rediss://`, a host, a port in
 * 1..65535, an optional database number as the path, no query, no
 * fragment — and the credentials and TLS settings given beside it, and
 * returns what the client is given. Everything is checked here, before a
 * client exists, so that nothing the client would do with a bad URL (a
 * `SELECT NaN` on connect, say) can escape as an unhandled rejection.
 * @param what The call, for messages ("open a Redis queue").
 * @param url The URL.
 * @param options Credentials and TLS settings beside the URL.
 * @throws {TypeError} When it is not such a URL, or an option is wrong; a
 * message has the URL with its user info replaced by `***`.
 */
export function checkServer(
  what: string,
  url: unknown,
  options: ServerOptions = {},
): Server {
  if (typeof url !== "string") throw badUrl(what, url, FORM);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badUrl(
      what,
      url,
      `${FORM} (it does not parse; is the port in 1..65535? a password's @, : and / must be %-encoded)`,
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw badUrl(what, url, `${FORM} (the scheme is ${parsed.protocol})`);
  }
  if (parsed.hostname === "") {
    throw badUrl(what, url, `${FORM} (it has no host)`);
  }
  const port = parsed.port === "" ? 6379 : Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw badUrl(what, url, `the port must be in 1..65535, not ${parsed.port}`);
  }
  const path = parsed.pathname;
  if (path !== "" && path !== "/" && !/^\/\d{1,9}$/.test(path)) {
    throw badUrl(
      what,
      url,
      `the path must be a database number such as /0, not ${
        JSON.stringify(redact(path))
      }`,
    );
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw badUrl(
      what,
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
    throw badUrl(what, url, "the user or password is not validly %-encoded");
  }
  const givenUser = v.string(what, "options.username", options.username, "");
  const givenPassword = v.string(
    what,
    "options.password",
    options.password,
    "",
  );
  if (options.username !== undefined && username !== undefined) {
    throw badUrl(
      what,
      url,
      "the user is given twice, in the URL and as options.username: give it once",
    );
  }
  if (options.password !== undefined && password !== undefined) {
    throw badUrl(
      what,
      url,
      "the password is given twice, in the URL and as options.password: give it once",
    );
  }
  if (options.username !== undefined) username = givenUser;
  if (options.password !== undefined) password = givenPassword;
  if (username !== undefined && password === undefined) {
    throw badUrl(
      what,
      url,
      `the user ${
        JSON.stringify(username)
      } has no password: give it in the URL (redis://user:password@host) or as options.password`,
    );
  }
  const tls = tlsOptions(what, options.tls);
  if (tls && parsed.protocol !== "rediss:") {
    throw badUrl(
      what,
      url,
      "options.tls is given with a redis:// URL, which is not encrypted: use rediss://",
    );
  }
  const secrets = secretForms(password, parsed.password || undefined);
  return {
    url: scrub(showUrl(url), secrets),
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    db: path.length > 1 ? Number(path.slice(1)) : 0,
    username,
    password,
    tls: parsed.protocol === "rediss:" ? tls ?? {} : undefined,
    secrets,
  };
}

// Every command's failure reaches workq rebuilt without its arguments, so
// no cause chain workq builds holds the password (the AUTH a reconnect
// sends fails the queued commands with its own error). And every command
// settles: the client keeps one that was in flight when the connection
// dropped for a resend once it is ready again, and leaves it waiting for
// ever when it never is (a reconnect refused, a server gone for good).
// The class is made once the client has loaded (see clientClass).
function guardedClass(Base: typeof Redis) {
  return class Guarded extends Base {
    readonly #secrets: readonly string[];
    readonly #pending = new Set<(error: unknown) => void>();
    #reason: Error | undefined;

    constructor(
      options: RedisOptions & { replyMapping?: "legacy" },
      secrets: readonly string[],
    ) {
      super(options);
      this.#secrets = secrets;
      this.on("end", () => {
        const reason = this.#reason ?? new Error("Connection is closed.");
        for (const fail of [...this.#pending]) fail(reason);
      });
    }

    override sendCommand(
      ...args: Parameters<Redis["sendCommand"]>
    ): ReturnType<Redis["sendCommand"]> {
      if (this.#reason) {
        // Given up: say why, not the client's "Connection is closed."
        const refused = Promise.reject(this.#reason);
        refused.catch(() => {});
        return refused as ReturnType<Redis["sendCommand"]>;
      }
      const sent = super.sendCommand(...args) as Promise<unknown>;
      const guarded = new Promise((resolve, reject) => {
        const fail = (error: unknown) => {
          this.#pending.delete(fail);
          reject(cleanError(error, this.#secrets));
        };
        this.#pending.add(fail);
        sent.then((value) => {
          this.#pending.delete(fail);
          resolve(value);
        }, fail);
      });
      // A pipeline reads its own commands' replies and leaves this one.
      guarded.catch(() => {});
      return guarded as ReturnType<Redis["sendCommand"]>;
    }

    /** Closes for good: every command still waiting rejects with `reason`. */
    giveUp(reason: Error): void {
      this.#reason ??= reason;
      this.disconnect();
    }
  };
}

type Guarded = InstanceType<ReturnType<typeof guardedClass>>;

// Loaded by the first connect, not at import: on Deno without --allow-env
// the client's import throws (a dependency lists the environment), and that
// must be a rejection naming the flag, not a crash of the importing program.
let loaded: Promise<ReturnType<typeof guardedClass>> | undefined;

async function clientClass(
  server: Server,
): Promise<ReturnType<typeof guardedClass>> {
  try {
    return await (loaded ??= import("ioredis").then((m) =>
      guardedClass(m.Redis)
    ));
  } catch (error) {
    loaded = undefined;
    const denied = deniedFlag(error);
    const why = denied
      ? ` (${denied.reason}): run again with ${denied.flag}`
      : `: ${(error as Error)?.message ?? String(error)}`;
    throw new Error(
      `Cannot connect to Redis at ${server.url}: the Redis client (ioredis) cannot load${why}`,
      { cause: error },
    );
  }
}

// A refusal that trying again with the same credentials cannot change.
const REFUSED = /^(WRONGPASS|NOAUTH|DENIED|NOPERM)\b/;

// Node's tls.connect takes Buffers where these options allow any bytes.
function nodeTls(tls: RedisTlsOptions): ConnectionOptions {
  const bytes = (b: string | Uint8Array) =>
    typeof b === "string"
      ? b
      : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const out: ConnectionOptions = {};
  if (tls.ca !== undefined) {
    out.ca = Array.isArray(tls.ca) ? tls.ca.map(bytes) : bytes(tls.ca);
  }
  if (tls.cert !== undefined) out.cert = bytes(tls.cert);
  if (tls.key !== undefined) out.key = bytes(tls.key);
  if (tls.servername !== undefined) out.servername = tls.servername;
  return out;
}

// What the server's refusal means, and what to do.
function hint(server: Server, error: Error): string {
  const message = error.message;
  const code = String((error as { code?: unknown }).code ?? "");
  if (/\bDENIED\b.*protected mode/s.test(message)) {
    return "the server is in protected mode: it has no password and takes connections from its loopback interface only; set a password on the server (requirepass, or an ACL user) and give it here";
  }
  if (/^NOAUTH\b/.test(message)) {
    return "the server requires a password: give it in the URL (redis://user:password@host, %-encoded) or as options.password";
  }
  if (/^WRONGPASS\b/.test(message)) {
    return `the server refused the ${
      server.username === undefined
        ? "password"
        : `user "${server.username}" or its password`
    } (WRONGPASS)`;
  }
  if (
    server.tls &&
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME/i.test(
      code + " " + message,
    )
  ) {
    return `${message} (the server's TLS certificate is not trusted: give the CA that signed it as options.tls.ca, and check that it names the host)`;
  }
  if (
    server.tls &&
    /wrong version number|packet length too long|ssl3?_get_record/i.test(
      message,
    )
  ) {
    return `${message} (is this a TLS port? rediss:// is for redis-server's --tls-port)`;
  }
  if (
    !server.tls &&
    /ECONNRESET|EPIPE|Connection is closed/i.test(code + " " + message)
  ) {
    return `${message} (the server hung up: if this is its TLS port, use rediss://)`;
  }
  return message || error.name;
}

function hungUp(error: Error): boolean {
  const code = String((error as { code?: unknown }).code ?? "");
  return /ECONNRESET|EPIPE|Connection is closed/i.test(
    `${code} ${error.message}`,
  );
}

// The first line the server sends unasked ("" when none within `ms`).
function greeting(server: Server, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = server.tls
      ? tlsConnect({
        host: server.host,
        port: server.port,
        ...nodeTls(server.tls),
      })
      : netConnect({ host: server.host, port: server.port });
    let text = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text.split("\r\n")[0]);
    };
    const timer = setTimeout(done, ms);
    socket.on("data", (chunk: Uint8Array) => {
      text += new TextDecoder().decode(chunk);
      if (text.includes("\r\n")) done();
    });
    socket.on("error", done);
    socket.on("close", done);
  });
}

/**
 * Connects, or rejects with an `Error` naming the server (without its
 * password) and the cause once the connect timeout has passed or the
 * server refused: a wrong password or user, a server in protected mode, an
 * untrusted certificate, a database number the server does not have.
 * @throws {Error} When the server cannot be reached or refuses.
 */
export async function connect(
  server: Server,
  options: ConnectOptions = {},
): Promise<Client> {
  const timeout = options.connectTimeout ?? 5000;
  // What the server said (a reply error: WRONGPASS, DENIED) says more
  // than the socket's end that follows it (EPIPE, "Connection is closed").
  let said: Error | undefined;
  let lastError: Error | undefined;
  let connected = false;
  const Guarded = await clientClass(server);
  const client: Guarded = new Guarded({
    host: server.host,
    port: server.port,
    username: server.username,
    password: server.password,
    // Selected below, where a refusal is this call's error.
    db: 0,
    ...(server.tls ? { tls: nodeTls(server.tls) } : {}),
    lazyConnect: true,
    // RESP2: the reply shapes this folder parses, on any server version.
    protocol: 2,
    connectTimeout: timeout,
    // Fail fast while connecting; once connected, ride out short outages.
    retryStrategy: (times: number) =>
      connected && times <= 20 ? Math.min(times * 100, 1000) : null,
    maxRetriesPerRequest: 3,
    connectionName: options.clientName,
    // Its CLIENT SETINFO would take a refusal's reply (protected mode's
    // DENIED) and drop it; without it, the ready check gets it.
    disableClientInfo: true,
  }, server.secrets);
  // Without a listener, the client prints every error on its own.
  client.on("error", (error: Error) => {
    lastError = error;
    if (error?.name !== "ReplyError") return;
    said ??= error;
    // Connected before, refused now (the password changed): the client
    // would retry for a while, each time in vain.
    if (connected && REFUSED.test(String(error.message))) {
      const cause = cleanError(error, server.secrets);
      client.giveUp(
        new Error(
          `Redis at ${server.url} refused this client on reconnect: ${
            hint(server, cause)
          }`,
          { cause },
        ),
      );
    }
  });
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
    if (server.db !== 0) await client.select(server.db);
    connected = true;
  } catch (error) {
    client.disconnect();
    const replied = (error as Error)?.name === "ReplyError" ? error : undefined;
    let cause = cleanError(
      said ?? replied ?? lastError ?? error,
      server.secrets,
    );
    // A server that refuses a client outright (protected mode) says why
    // and hangs up; the client, writing its first command meanwhile, may
    // see only the hang-up. Listening without writing hears it.
    if (!said && !replied && hungUp(cause)) {
      const line = await greeting(server, Math.min(timeout, 2000));
      if (line.startsWith("-")) {
        const refusal = new Error(line.slice(1));
        refusal.name = "ReplyError";
        cause = cleanError(refusal, server.secrets);
      }
    }
    throw new Error(
      `Cannot connect to Redis at ${server.url}: ${hint(server, cause)}`,
      { cause },
    );
  } finally {
    clearTimeout(timer);
  }
  return client;
}

// Secrets, limits, TLS and auth over Redis, against real redis-servers.
// Random passwords (with ":", "@" and "%40" in them) are planted in the
// URL, in an ACL user's URL, and in options; every error's message, stack,
// cause chain and inspected form (util.inspect, and Deno.inspect on Deno),
// and the worker command's stderr, are searched for them — on a wrong
// password, an unknown user, a malformed call, a server stopped mid-run
// and a reconnect refused. Then TLS with certificates made here (openssl),
// protected mode off loopback, and maxItemBytes.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, test } from "node:test";
import { inspect } from "node:util";
import { Redis } from "ioredis";
import { iterMsg, type Queue } from "../../mod.ts";
import {
  closeQueue,
  endqAndWaitRemote,
  redisIterableQueue,
  redisQueue,
} from "../../redis.ts";
import { startScript } from "../_child.ts";
import {
  cli,
  freePort,
  type RedisServer,
  startRedis,
  within,
  workerArgs,
} from "./_server.ts";

const WORKER_FLAGS = ["--allow-net", "--allow-env", "--allow-read"];

let names = 0;
const name = (what: string) => `${what}-${process.pid}-${++names}`;

/** A random password with the characters a URL must %-encode. */
function plant(): string {
  const hex = () => randomBytes(6).toString("hex");
  return `${hex()}:${hex()}@${hex()}%40${hex()}`;
}

const enc = encodeURIComponent;

// Every piece of the password would be a leak, not only all of it.
function pieces(password: string): string[] {
  return [
    password,
    enc(password),
    ...password.split(/[:@%]/).filter((p) => p.length >= 8),
  ];
}

type Inspect = (value: unknown, options?: object) => string;
const denoInspect = (globalThis as { Deno?: { inspect: Inspect } }).Deno
  ?.inspect;

/** Every form of an error a user may see: message, stack, causes, inspected. */
function shown(value: unknown): string {
  const out: string[] = [];
  let e: unknown = value;
  for (let depth = 0; e !== undefined && depth < 10; depth++) {
    if (e instanceof Error) out.push(e.message, String(e.stack));
    else out.push(String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  const options = { depth: Infinity, showHidden: true };
  out.push(inspect(value, options));
  if (denoInspect) out.push(denoInspect(value, options));
  return out.join("\n");
}

function assertClean(text: string, passwords: string[], where: string) {
  for (const password of passwords) {
    for (const piece of pieces(password)) {
      assert.ok(
        !text.includes(piece),
        `${where} shows a password (${piece}):\n${text}`,
      );
    }
  }
}

/** Awaits a rejection; returns the error after checking it is clean. */
async function refused(
  p: Promise<unknown>,
  pattern: RegExp,
  passwords: string[],
  where: string,
): Promise<Error> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof Error, `${where}: no error`);
  assert.match(error.message, pattern, where);
  assertClean(shown(error), passwords, where);
  return error;
}

const servers: RedisServer[] = [];
const scratch = mkdtempSync(join(tmpdir(), "workq-security-"));

after(async () => {
  for (const server of servers) await server.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function server(
  args: string[],
  options: { port?: number; bind?: string[] } = {},
): Promise<RedisServer> {
  const s = await startRedis({ ...options, args });
  servers.push(s);
  return s;
}

/** An admin connection, for what the test does to the server. */
function admin(port: number, password: string): Redis {
  const client = new Redis({
    port,
    host: "127.0.0.1",
    password,
    protocol: 2,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  return client;
}

async function readAll<T>(q: Queue<T>): Promise<T[]> {
  await q.end();
  const out: T[] = [];
  for await (const msg of iterMsg(q)) out.push(msg.data);
  return out;
}

test("a password in the URL: wrong, missing and right; no error or inspected form shows it", async () => {
  const password = plant();
  const wrong = plant();
  const s = await server(["--requirepass", password]);
  const at = `127.0.0.1:${s.port}`;
  for (const open of [redisQueue, redisIterableQueue]) {
    const e = await refused(
      open(`redis://:${enc(wrong)}@${at}`, name("wrong")),
      /Cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1.*WRONGPASS/,
      [wrong, password],
      `${open.name} with a wrong password`,
    );
    // The client's reply error, rebuilt: its words, not its arguments.
    assert.match(String((e.cause as Error)?.message), /^WRONGPASS/);
    await refused(
      open(`redis://${at}`, name("none")),
      /requires a password/,
      [password],
      `${open.name} without a password`,
    );
    // Malformed, with the password in it: the message has *** instead
    // (not %-encoded, it parses as some other password).
    for (
      const bad of [
        `redis://:${enc(password)}@${at}/x`,
        `http://:${enc(password)}@${at}`,
        `redis://:${password}@${at}`,
      ]
    ) {
      await refused(
        open(bad, "q"),
        /Cannot (open|connect)/,
        [password],
        `${open.name}(${bad})`,
      );
    }
  }
  const q = await redisQueue<string>(
    `redis://:${enc(password)}@${at}`,
    name("right"),
  );
  try {
    await q.put("in");
    assert.deepEqual(await readAll(q), ["in"]);
    assertClean(shown(q), [password], "the queue, inspected");
    await refused(
      q.put((() => {}) as unknown as string),
      /cannot be cloned/,
      [password],
      "a put of a function",
    );
  } finally {
    await closeQueue(q);
  }
});

test("an ACL user, in the URL or as options: right, wrong password, unknown user, given twice", async () => {
  const password = plant();
  const wrong = plant();
  const s = await server([
    "--user",
    "default",
    "off",
    "--user",
    "alice",
    "on",
    `>${password}`,
    "~*",
    "&*",
    // The least docs/security.md suggests: no CONFIG, no CLIENT KILL.
    "+@all",
    "-@dangerous",
    "+info",
    "+client|list",
    "+client|setname",
  ]);
  const at = `127.0.0.1:${s.port}`;
  const byUrl = await redisQueue<number>(
    `redis://alice:${enc(password)}@${at}`,
    name("acl-url"),
  );
  const byOptions = await redisQueue<number>(`redis://${at}`, byUrl.name, {
    username: "alice",
    password,
  });
  try {
    await byUrl.put(1);
    await byOptions.put(2);
    assert.deepEqual(await readAll(byOptions), [1, 2]);
    // No CONFIG GET for alice: the limit is Redis's default, 512 MiB.
    const limited = await redisQueue<string>(`redis://${at}`, byUrl.name, {
      username: "alice",
      password,
      maxItemBytes: 100,
    });
    await assert.rejects(limited.put("x".repeat(200)), /maxItemBytes of 100/);
    await closeQueue(limited);
  } finally {
    await closeQueue(byUrl);
    await closeQueue(byOptions);
  }
  // A done-aware queue with the password as an option, end to end.
  const iq = await redisIterableQueue<number>(`redis://${at}`, name("acl-iq"), {
    username: "alice",
    password,
    producers: 1,
  });
  const producer = await iq.producer();
  await producer.putMany([1, 2, 3]);
  await producer.close();
  let sum = 0;
  for await (const n of await iq.consumer()) sum += n;
  assert.equal(sum, 6);
  assertClean(shown(iq), [password], "the iterable queue, inspected");
  await iq.disconnect();

  await refused(
    redisQueue(`redis://${at}`, "q", { username: "alice", password: wrong }),
    /user "alice" or its password \(WRONGPASS\)/,
    [wrong, password],
    "alice with a wrong password (options)",
  );
  await refused(
    redisQueue(`redis://bob:${enc(password)}@${at}`, "q"),
    /redis:\/\/bob:\*\*\*@.*user "bob"/,
    [password],
    "an unknown user with alice's password (URL)",
  );
  await refused(
    redisIterableQueue(`redis://alice:${enc(password)}@${at}`, "q", {
      password,
    }),
    /the password is given twice/,
    [password],
    "a password in the URL and in options",
  );
  await refused(
    redisQueue(`redis://${at}`, "q", { username: "alice" }),
    /has no password/,
    [password],
    "a user without a password",
  );
  await refused(
    redisQueue(`redis://${at}`, "q", { password: 42 as unknown as string }),
    /options\.password must be a string/,
    [],
    "a password that is not a string",
  );
});

test("reconnects: a server stopped mid-run, then one that refuses the password; put and get errors hold no password", async () => {
  const password = plant();
  const s = await server(["--requirepass", password]);
  const url = `redis://127.0.0.1:${s.port}`;
  const q = await redisQueue<number>(url, name("reconnect"), { password });
  const reader = await redisQueue<number>(url, q.name, { password });
  const root = admin(s.port, password);
  const handles = [q, reader];
  try {
    await q.put(1);
    assert.equal((await reader.get()).data, 1);
    // A reader waits on its own connection; the server changes the password
    // and drops every client: the reconnects' AUTH fails.
    const waiting = reader.get();
    waiting.catch(() => {});
    const next = plant();
    await root.config("SET", "requirepass", next);
    await root.call("CLIENT", ["KILL", "TYPE", "normal", "SKIPME", "yes"]);
    const putError = await refused(
      within(60_000, "the put after the password changed", q.put(2)),
      /Cannot put into queue/,
      [password, next],
      "a put whose reconnect was refused",
    );
    const getError = await refused(
      within(60_000, "the waiting get", waiting),
      /Cannot get from queue/,
      [password, next],
      "a get whose reconnect was refused",
    );
    // The reconnect's refusal is what they carry (its AUTH's arguments are
    // the password: rebuilt without them).
    assert.match(shown(putError) + shown(getError), /WRONGPASS/);
    // Refused, a handle gives up at once (the same password would be
    // refused again), and says so.
    await refused(
      q.put(3),
      /Cannot put into queue .*refused this client on reconnect: the server refused the password \(WRONGPASS\)/,
      [password, next],
      "a put after the handle gave up",
    );
    await within(
      60_000,
      "close",
      Promise.all([closeQueue(q), closeQueue(reader)]),
    );
    await root.config("SET", "requirepass", password);

    // A server stopped mid-run: puts and a waiting get reject, clean.
    const q2 = await redisQueue<number>(url, name("stopped"), { password });
    const reader2 = await redisQueue<number>(url, q2.name, { password });
    handles.push(q2, reader2);
    await q2.put(1);
    assert.equal((await reader2.get()).data, 1);
    const waiting2 = reader2.get();
    waiting2.catch(() => {});
    await s.stop();
    await refused(
      within(60_000, "a put to a stopped server", q2.put(2)),
      /Cannot put into queue/,
      [password],
      "a put to a stopped server",
    );
    await refused(
      within(60_000, "a get from a stopped server", waiting2),
      /Cannot get from queue/,
      [password],
      "a get from a stopped server",
    );
  } finally {
    root.disconnect();
    await within(60_000, "close", Promise.all(handles.map(closeQueue)));
  }
});

test("the worker command: the URL from WORKQ_REDIS_URL or --url-file, exactly one source; its stderr never shows the password", async () => {
  const password = plant();
  const wrong = plant();
  const s = await server(["--requirepass", password]);
  const url = `redis://:${enc(password)}@127.0.0.1:${s.port}`;
  const wrongUrl = `redis://:${enc(wrong)}@127.0.0.1:${s.port}`;
  const inName = name("cli-in");
  const outName = name("cli-out");
  const args = workerArgs(inName, outName, "sum");
  const run = (extra: string[], env: Record<string, string | undefined>) =>
    startScript(cli, [...extra, ...args], {
      env: { WORKQ_REDIS_URL: undefined, ...env },
      deno: WORKER_FLAGS,
    });
  const fails = async (
    extra: string[],
    env: Record<string, string | undefined>,
    pattern: RegExp,
    where: string,
  ) => {
    const child = run(extra, env);
    const code = await child.exit(60_000);
    assert.equal(code, 1, `${where}: ${child.stderr()}`);
    assert.match(child.stderr(), pattern, where);
    assertClean(child.stdout() + child.stderr(), [password, wrong], where);
  };
  await fails(
    [],
    { WORKQ_REDIS_URL: wrongUrl },
    /WRONGPASS/,
    "a wrong password from the variable",
  );
  await fails(
    ["--url", url],
    { WORKQ_REDIS_URL: url },
    /given 2 ways \(the variable WORKQ_REDIS_URL, --url\)/,
    "the variable and --url",
  );
  const file = join(scratch, "url");
  writeFileSync(file, `${url}\n`, { mode: 0o600 });
  await fails(
    ["--url-file", file, "--url", url],
    {},
    /given 2 ways/,
    "--url-file and --url",
  );
  await fails([], {}, /no Redis URL given/, "no URL");
  await fails(
    ["--url-file", join(scratch, "missing")],
    {},
    /cannot read --url-file .*ENOENT/,
    "a missing --url-file",
  );
  await fails(
    ["--url", url, url],
    {},
    /Unexpected argument 'redis:\/\/\*\*\*@/,
    "a stray URL argument",
  );
  await fails(["--url", `${url}/x`], {}, /database number/, "a malformed URL");

  // The right URL from the file, then from the variable: ezq's sum.
  const inQ = await redisQueue<number>(url, inName);
  const outQ = await redisQueue<number>(url, outName);
  try {
    await inQ.putMany(Array.from({ length: 100 }, (_, i) => i));
    const workers = [
      run(["--url-file", file], {}),
      run([], { WORKQ_REDIS_URL: url }),
    ];
    await endqAndWaitRemote(inQ, 2, { timeout: 120_000 });
    for (const w of workers) {
      assert.equal(await w.exit(60_000), 0, w.stderr());
      assertClean(w.stdout() + w.stderr(), [password], "a worker that ran");
    }
    await outQ.end();
    let total = 0;
    for await (const msg of iterMsg(outQ)) total += msg.data;
    assert.equal(total, 4950);
  } finally {
    await closeQueue(inQ);
    await closeQueue(outQ);
  }

  // A worker whose reconnect is refused: one clean line, exit 1.
  const echoIn = name("cli-echo-in");
  const echoOut = name("cli-echo-out");
  const q = await redisQueue<number>(url, echoIn);
  await q.put(1);
  const worker = startScript(cli, workerArgs(echoIn, echoOut, "echo"), {
    env: { WORKQ_REDIS_URL: url },
    deno: WORKER_FLAGS,
  });
  await worker.waitFor(/started/, 60_000);
  const root = admin(s.port, password);
  const next = plant();
  await root.config("SET", "requirepass", next);
  await root.call("CLIENT", ["KILL", "TYPE", "normal", "SKIPME", "yes"]);
  const code = await worker.exit(90_000);
  await root.config("SET", "requirepass", password);
  root.disconnect();
  await closeQueue(q);
  assert.equal(code, 1, worker.stderr());
  assert.match(
    worker.stderr(),
    /^workq redis worker: (task "echo" threw Error: )?Cannot (get from|put into) queue/m,
  );
  assertClean(
    worker.stdout() + worker.stderr(),
    [password, next],
    "a worker whose reconnect was refused",
  );
});

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** A throwaway CA and a server certificate it signed, for 127.0.0.1. */
function certificates(dir: string, tag: string) {
  const file = (f: string) => join(dir, `${tag}-${f}`);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  openssl([
    "req",
    "-x509",
    ...ec,
    "-nodes",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.crt"),
    "-days",
    "1",
    "-subj",
    `/CN=workq test CA ${tag}`,
  ]);
  openssl([
    "req",
    ...ec,
    "-nodes",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
    "-subj",
    "/CN=127.0.0.1",
  ]);
  writeFileSync(file("ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl([
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.crt"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-out",
    file("server.crt"),
    "-days",
    "1",
    "-extfile",
    file("ext"),
  ]);
  return {
    ca: readFileSync(file("ca.crt"), "utf8"),
    caFile: file("ca.crt"),
    cert: file("server.crt"),
    key: file("server.key"),
  };
}

test("TLS: rediss:// with the test's own CA and a password; no CA, a wrong CA, a wrong name and redis:// with tls are clear errors", async () => {
  const mine = certificates(scratch, "mine");
  const other = certificates(scratch, "other");
  const password = plant();
  const tlsPort = await freePort();
  await server([
    "--port",
    "0",
    "--tls-port",
    String(tlsPort),
    "--tls-cert-file",
    mine.cert,
    "--tls-key-file",
    mine.key,
    "--tls-ca-cert-file",
    mine.caFile,
    "--tls-auth-clients",
    "no",
    "--requirepass",
    password,
  ]);
  const url = `rediss://:${enc(password)}@127.0.0.1:${tlsPort}`;
  const tls = { ca: mine.ca };
  const q = await redisQueue<string>(url, name("tls"), { tls });
  try {
    await q.put("secret data");
    // The reader's own connection is over TLS too.
    assert.deepEqual(await readAll(q), ["secret data"]);
  } finally {
    await closeQueue(q);
  }
  const iq = await redisIterableQueue<number>(url, name("tls-iq"), {
    tls: { ca: new TextEncoder().encode(mine.ca) },
    producers: 1,
  });
  const producer = await iq.producer();
  await producer.put(7);
  await producer.close();
  const got: number[] = [];
  for await (const n of await iq.consumer()) got.push(n);
  assert.deepEqual(got, [7]);
  await iq.disconnect();

  const untrusted = /rediss:\/\/:\*\*\*@127\.0\.0\.1.*not trusted: give the CA/;
  await refused(redisQueue(url, "q", { connectTimeout: 10_000 }), untrusted, [
    password,
  ], "no CA");
  await refused(
    redisQueue(url, "q", { tls: { ca: other.ca }, connectTimeout: 10_000 }),
    untrusted,
    [password],
    "another CA",
  );
  await refused(
    redisQueue(url, "q", {
      tls: { ca: mine.ca, servername: "redis.example" },
      connectTimeout: 10_000,
    }),
    untrusted,
    [password],
    "a name the certificate does not have",
  );
  await refused(
    redisQueue(`rediss://:${enc(plant())}@127.0.0.1:${tlsPort}`, "q", { tls }),
    /WRONGPASS/,
    [password],
    "a wrong password over TLS",
  );
  await refused(
    redisQueue(url.replace("rediss:", "redis:"), "q", { tls }),
    /options\.tls is given with a redis:\/\/ URL.*use rediss:\/\//,
    [password],
    "redis:// with tls",
  );
  await refused(
    redisQueue(url, "q", { tls: { ca: 5 } as unknown as { ca: string } }),
    /options\.tls\.ca must be PEM text or bytes/,
    [password],
    "a CA that is a number",
  );
  await refused(
    redisQueue(url, "q", {
      tls: { ca: mine.ca, rejectUnauthorized: false } as unknown as {
        ca: string;
      },
    }),
    /options\.tls\.rejectUnauthorized is not an option/,
    [password],
    "an option that would turn verification off",
  );
});

// Asked of a child of this runtime: Deno's test lane has no --allow-sys.
function nonLoopback(): string {
  const code =
    `const os = await import("node:os"); console.log(JSON.stringify(Object.values(os.networkInterfaces()).flat()))`;
  const out = execFileSync(
    process.execPath,
    "Deno" in globalThis ? ["eval", code] : ["--input-type=module", "-e", code],
    { encoding: "utf8" },
  );
  const list = JSON.parse(out) as {
    family: string | number;
    internal: boolean;
    address: string;
  }[];
  const found = list.find((a) =>
    (a.family === "IPv4" || a.family === 4) && !a.internal
  );
  // A loud failure, never a skip: protected mode needs such an address.
  if (!found) {
    throw new Error(
      "this machine has no non-loopback IPv4 address to bind redis-server to",
    );
  }
  return found.address;
}

test("protected mode: a client without a password is refused off loopback, with an error naming protected mode", async () => {
  const address = nonLoopback();
  const s = await server([], { bind: [address, "127.0.0.1"] });
  // On loopback it answers: the refusal below is protected mode's.
  const local = await redisQueue(s.url, name("loopback"));
  await closeQueue(local);
  for (const open of [redisQueue, redisIterableQueue]) {
    await refused(
      open(`redis://${address}:${s.port}`, "q", { connectTimeout: 10_000 }),
      /the server is in protected mode: it has no password and takes connections from its loopback interface only/,
      [],
      `${open.name} off loopback`,
    );
  }
});

test("maxItemBytes: a put over it rejects naming the size and the limit; the queue goes on; the server's limit wins; bad values are refused", async () => {
  const s = await server(["--proto-max-bulk-len", "1mb"]);
  const q = await redisQueue<string>(s.url, name("limit"), {
    maxItemBytes: 1000,
  });
  const bounded = await redisQueue<string>(s.url, name("limit-bounded"), {
    maxItemBytes: 1000,
    maxsize: 4,
  });
  try {
    for (const handle of [q, bounded]) {
      await handle.put("before");
      await assert.rejects(
        handle.put("x".repeat(2000)),
        (e: Error) =>
          e instanceof RangeError &&
          /the item is 20\d\d bytes encoded, above options\.maxItemBytes of 1000 bytes/
            .test(e.message),
      );
      await assert.rejects(handle.putMany(["y", "x".repeat(2000)]), RangeError);
      await handle.put("after");
      assert.deepEqual(await readAll(handle), ["before", "after"]);
    }
  } finally {
    await closeQueue(q);
    await closeQueue(bounded);
  }
  const iq = await redisIterableQueue<string>(s.url, name("limit-iq"), {
    maxItemBytes: 1000,
    producers: 1,
  });
  const producer = await iq.producer();
  await assert.rejects(
    producer.put("x".repeat(2000)),
    /options\.maxItemBytes of 1000 bytes/,
  );
  await producer.put("fits");
  await producer.close();
  const got: string[] = [];
  for await (const item of await iq.consumer()) got.push(item);
  assert.deepEqual(got, ["fits"]);
  await iq.disconnect();

  // Above the server's proto-max-bulk-len (1 MiB), Redis would drop the
  // connection: that limit is the one a put meets.
  const big = await redisQueue<Uint8Array>(s.url, name("limit-big"), {
    maxItemBytes: 10 * 1024 * 1024,
  });
  try {
    await assert.rejects(
      big.put(new Uint8Array(2 * 1024 * 1024)),
      /above the Redis server's proto-max-bulk-len of 1048576 bytes/,
    );
    await big.put(new Uint8Array(10));
  } finally {
    await closeQueue(big);
  }
  for (
    const [value, error] of [
      [0, RangeError],
      [-1, RangeError],
      [1.5, RangeError],
      [2 ** 60, RangeError],
      [NaN, TypeError],
      ["1000", TypeError],
    ] as const
  ) {
    for (const open of [redisQueue, redisIterableQueue]) {
      await assert.rejects(
        open(s.url, "q", { maxItemBytes: value as number }),
        (e: Error) =>
          e instanceof error && /options\.maxItemBytes/.test(e.message),
        `maxItemBytes ${String(value)}`,
      );
    }
  }
  await assert.rejects(
    redisQueue(
      s.url,
      "q",
      { maxItemSize: 5 } as unknown as { maxsize: number },
    ),
    (e: Error) =>
      e instanceof TypeError &&
      /options\.maxItemSize is not an option/.test(e.message),
  );
});

// Kept promises over Redis, against real redis-servers: a resolved put is
// in Redis (a producer killed right after its puts resolved lost none);
// ezq's n workers / n markers with one worker killed and none started in
// its place; a server restarted empty is an error for producers and
// waiters; an item above the server's proto-max-bulk-len is refused by its
// own put; malformed URLs reject clearly, without the password, and never
// kill the process; putMany.
import assert from "node:assert/strict";
import { test } from "node:test";
import { iterMsg, Msg } from "../../mod.ts";
import {
  closeQueue,
  deadLetters,
  endqAndWaitRemote,
  redisQueue,
} from "../../redis.ts";
import { here } from "../_helpers.ts";
import {
  type Child,
  cli,
  queueNamer,
  redisForTests,
  startRedis,
  startScript,
  within,
  workerArgs,
} from "./_server.ts";

const producerScript = here("./redis/fixtures/producer.ts");

const redis = redisForTests();
const name = queueNamer();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(ms: number, what: string, ok: () => boolean) {
  await within(
    ms,
    what,
    (async () => {
      while (!ok()) await sleep(5);
    })(),
  );
}

/** Everything in the queue now, read through a handle of its own. */
async function readAll<T>(at: string, queue: string): Promise<T[]> {
  const q = await redisQueue<T>(at, queue);
  try {
    await q.end();
    const out: T[] = [];
    for await (const msg of iterMsg(q)) out.push(msg.data);
    return out;
  } finally {
    await closeQueue(q);
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

for (
  const [count, how] of [
    [1000, "await"],
    [1, "await"],
    [1000, "concurrent"],
    [1000, "many"],
  ] as const
) {
  test(`a producer SIGKILLed right after ${count} resolved puts (${how}): every one of them is in Redis`, async () => {
    const queue = name(`kept-${how}`);
    const producer = startScript(producerScript, [
      "puts",
      redis.url,
      queue,
      String(count),
      how,
    ]);
    try {
      // Killed as soon as it says its puts resolved.
      await within(
        20_000,
        "the producer's puts",
        new Promise<void>((resolve) => {
          const look = () => {
            if (producer.stdout.includes("resolved")) {
              producer.child.kill("SIGKILL");
              resolve();
            }
          };
          producer.child.stdout!.on("data", () => queueMicrotask(look));
          producer.exit.then(() => resolve());
        }),
      );
      assert.equal(await producer.exit, null, producer.stderr);
      assert.match(producer.stdout, new RegExp(`resolved ${count}`));
      const got = await readAll<number>(redis.url, queue);
      assert.deepEqual(
        got,
        range(count),
        `${got.length} of ${count} resolved puts are in Redis`,
      );
    } finally {
      producer.child.kill("SIGKILL");
    }
  });
}

function worker(
  inName: string,
  outName: string,
  exportName: string,
  env: Record<string, string> = {},
): Child {
  return startScript(cli, [
    "--url",
    redis.url,
    ...workerArgs(inName, outName, exportName),
  ], { SLOW_MS: "1", ...env });
}

test("ezq's n workers / n end markers, one worker SIGKILLed and none started in its place: every item done, endqAndWaitRemote resolves", async () => {
  const N = 2000;
  const WORKERS = 3;
  const inName = name("nkill-in");
  const outName = name("nkill-out");
  const inQ = await redisQueue<number>(redis.url, inName);
  const workers = Array.from(
    { length: WORKERS },
    () => worker(inName, outName, "echo"),
  );
  const [victim, ...survivors] = workers;
  try {
    for (let i = 0; i < N; i++) await inQ.put(i);
    await until(20_000, "the victim's start", () => victim.stdout !== "");
    await sleep(200); // it holds items and has finished some
    victim.child.kill("SIGKILL");
    const killedAt = performance.now();
    assert.equal(await victim.exit, null);
    await within(
      30_000,
      "endqAndWaitRemote",
      endqAndWaitRemote(inQ, WORKERS),
    );
    const done = performance.now() - killedAt;
    const codes = await within(
      10_000,
      "survivors' exit",
      Promise.all(survivors.map((w) => w.exit)),
    );
    assert.deepEqual(
      codes,
      survivors.map(() => 0),
      survivors.map((w) => w.stderr).join("\n"),
    );
    const outputs = await readAll<[number, number]>(redis.url, outName);
    const items = new Set(outputs.map(([item]) => item));
    assert.deepEqual([...items].sort((a, b) => a - b), range(N));
    assert.deepEqual(await deadLetters(inQ), []);
    // Nothing is left for a later run of the same queue: no stale marker.
    assert.deepEqual(await readAll<number>(redis.url, inName), []);
    console.log(
      `n workers / n markers: ${WORKERS} workers, 1 SIGKILLed, ${N} items, ${outputs.length} outputs, endqAndWaitRemote resolved ${
        Math.round(done)
      } ms after the kill`,
    );
  } finally {
    for (const w of workers) w.child.kill("SIGKILL");
    await closeQueue(inQ);
  }
});

test("a live worker silent past claimIdle (its event loop blocked) is not dead: it keeps its end marker", async () => {
  const N = 200;
  const inName = name("stall-in");
  const outName = name("stall-out");
  const inQ = await redisQueue<number>(redis.url, inName);
  const slow = worker(inName, outName, "stall", { STALL_MS: "3000" });
  const workers = [slow];
  try {
    for (let i = 0; i < N; i++) await inQ.put(i);
    await until(20_000, "the stall", () => slow.stdout.includes("stalling"));
    workers.push(worker(inName, outName, "echo"));
    await within(
      30_000,
      "endqAndWaitRemote",
      endqAndWaitRemote(inQ, 2),
    );
    const codes = await within(
      10_000,
      "workers' exit",
      Promise.all(workers.map((w) => w.exit)),
    );
    assert.deepEqual(codes, [0, 0], workers.map((w) => w.stderr).join("\n"));
    const items = new Set(
      (await readAll<[number, number]>(redis.url, outName)).map(([item]) =>
        item
      ),
    );
    assert.deepEqual([...items].sort((a, b) => a - b), range(N));
  } finally {
    for (const w of workers) w.child.kill("SIGKILL");
    await closeQueue(inQ);
  }
});

test("a worker that starts after the others finished everything still gets its end marker", async () => {
  const inName = name("late-in");
  const outName = name("late-out");
  const inQ = await redisQueue<number>(redis.url, inName);
  const early = worker(inName, outName, "sum");
  try {
    for (let i = 0; i < 100; i++) await inQ.put(i);
    const waiting = endqAndWaitRemote(inQ, 2);
    assert.equal(await within(20_000, "early worker", early.exit), 0);
    let settled = false;
    waiting.then(() => (settled = true), () => (settled = true));
    await sleep(1500); // past the default claimIdle: the late one is not dead
    assert.equal(settled, false, "one marker is for the worker to come");
    const late = worker(inName, outName, "sum");
    assert.equal(
      await within(20_000, "late worker", late.exit),
      0,
      late.stderr,
    );
    assert.equal(late.stdout.trim(), "0");
    await within(10_000, "endqAndWaitRemote", waiting);
  } finally {
    early.child.kill("SIGKILL");
    await closeQueue(inQ);
  }
});

test("redis-server restarted empty: puts and endqAndWaitRemote reject naming the lost queue; a waiting get rejects", async () => {
  let own = await startRedis();
  const port = own.port;
  const restart = async () => {
    await own.stop();
    own = await startRedis({ port });
  };
  const q = await redisQueue<number>(own.url, name("restart"));
  const bounded = await redisQueue<number>(own.url, name("restart-bounded"), {
    maxsize: 10,
  });
  const waitQ = await redisQueue<number>(own.url, name("restart-wait"));
  const reader = await redisQueue<number>(own.url, name("restart-read"));
  try {
    await q.put(1);
    await bounded.put(1);
    await waitQ.put(1);
    const reading = reader.get();
    reading.catch(() => {});
    // Waiting with no worker: the marker is in, the wait goes on.
    const waiting = endqAndWaitRemote(waitQ, 1);
    waiting.catch(() => {});
    await sleep(100);
    await restart();
    const lost = /lost|no longer exists/;
    await within(10_000, "put", assert.rejects(q.put(2), lost));
    await within(10_000, "put again", assert.rejects(q.put(3), lost));
    await within(10_000, "putMany", assert.rejects(q.putMany([4, 5]), lost));
    await within(10_000, "bounded put", assert.rejects(bounded.put(2), lost));
    await within(
      10_000,
      "endqAndWaitRemote while waiting",
      assert.rejects(waiting, lost),
    );
    await within(
      10_000,
      "endqAndWaitRemote after",
      assert.rejects(endqAndWaitRemote(q, 2), lost),
    );
    await within(
      10_000,
      "get",
      assert.rejects(reading, /Cannot get from queue/),
    );
    // Nobody made a stream that no one reads.
    const stale = await redisQueue<number>(own.url, q.name);
    assert.equal(stale.size, 0, "the lost queue's puts made no new stream");
    await closeQueue(stale);
  } finally {
    for (const handle of [q, bounded, waitQ, reader]) {
      await within(10_000, "close", closeQueue(handle).catch(() => {}));
    }
    await own.stop();
  }
});

test("an item above the server's proto-max-bulk-len: its own put rejects naming the size and the limit; the queue goes on", async () => {
  const own = await startRedis({ args: ["--proto-max-bulk-len", "1mb"] });
  const q = await redisQueue<unknown>(own.url, name("big"));
  const bounded = await redisQueue<unknown>(own.url, name("big-bounded"), {
    maxsize: 5,
  });
  try {
    const big = new Uint8Array(2 * 1024 * 1024);
    for (const handle of [q, bounded]) {
      await handle.put("before");
      await assert.rejects(
        handle.put(big),
        (e: Error) =>
          e instanceof RangeError && /2097\d{3} bytes/.test(e.message) &&
          /1048576/.test(e.message) && /proto-max-bulk-len/.test(e.message),
      );
      await assert.rejects(handle.putMany(["x", big]), RangeError);
      await handle.put("after");
      await handle.putMany(["and", "more"]);
      assert.deepEqual(await readAll(own.url, handle.name), [
        "before",
        "after",
        "and",
        "more",
      ]);
    }
  } finally {
    await closeQueue(q);
    await closeQueue(bounded);
    await own.stop();
  }
});

test("malformed URLs reject with a clear error without the password; the process survives", async () => {
  const child = startScript(producerScript, ["urls", redis.url]);
  const code = await within(30_000, "the script's exit", child.exit);
  assert.equal(code, 0, child.stderr + child.stdout);
  assert.ok(!(child.stdout + child.stderr).includes("hunter2"));
  const lines = child.stdout.trim().split("\n");
  assert.equal(lines.pop(), "survived fine");
  assert.equal(lines.length, 18);
  for (const line of lines) {
    const { at, opened, name, message } = JSON.parse(line);
    assert.ok(!opened, `bad URL ${at} opened`);
    assert.ok(name === "TypeError" || name === "Error", line);
    assert.match(message, /Redis|URL/, line);
  }
  await assert.rejects(
    redisQueue("redis://:hunter2@127.0.0.1:1/notadb", "q"),
    (e: Error) =>
      e instanceof TypeError && /database/.test(e.message) &&
      !e.message.includes("hunter2"),
  );
  await assert.rejects(
    redisQueue("redis://:hunter2@127.0.0.1:99999", "q"),
    (e: Error) => e instanceof TypeError && !e.message.includes("hunter2"),
  );
});

test("putMany: one call, in order, resolved once every item is in Redis; bounded queues wait for room", async () => {
  const q = await redisQueue<unknown>(redis.url, name("many"));
  const bounded = await redisQueue<number>(redis.url, name("many-bounded"), {
    maxsize: 10,
  });
  try {
    await q.putMany([]);
    await q.putMany([1, new Msg({ kind: "K", data: 2, order: 3 }), "three"]);
    const first = await q.get();
    assert.equal(first.data, 1);
    const second = await q.get();
    assert.deepEqual([second.kind, second.data, second.order], ["K", 2, 3]);
    assert.equal((await q.get()).data, "three");
    await assert.rejects(q.putMany([1, () => 2]), TypeError);
    await assert.rejects(
      q.putMany([new Msg({ kind: "workq:end", data: 1 })]),
      /reserved/,
    );
    await q.put("last");
    assert.equal((await q.get()).data, "last", "all or nothing");
    let putDone = false;
    const putting = bounded.putMany(range(30)).then(() => (putDone = true));
    const got: number[] = [];
    for (let i = 0; i < 30; i++) {
      got.push((await bounded.get({ timeout: 10_000 })).data);
      if (i < 15) assert.equal(putDone, false, "waits for room");
    }
    await within(10_000, "putMany", putting);
    assert.deepEqual(got, range(30));
  } finally {
    await closeQueue(q);
    await closeQueue(bounded);
  }
});

test("puts issued together: each resolves with its item in Redis, in order, plain items beside kinds and orders; one that cannot be encoded rejects alone", async () => {
  const q = await redisQueue<unknown>(redis.url, name("together"));
  try {
    const puts: Promise<void>[] = [];
    for (let i = 0; i < 600; i++) puts.push(q.put(i)); // past one batch
    const bad = q.put(() => {});
    puts.push(q.put(new Msg({ data: "tagged", kind: "job", order: 3 })));
    puts.push(q.put("last"));
    await assert.rejects(bad, TypeError);
    await Promise.all(puts);
    const seen: unknown[] = [];
    const reader = await redisQueue<unknown>(redis.url, q.name);
    try {
      await q.end();
      for await (const msg of iterMsg(reader)) {
        seen.push(msg.kind ? [msg.kind, msg.order, msg.data] : msg.data);
      }
    } finally {
      await closeQueue(reader);
    }
    assert.deepEqual(seen, [...range(600), ["job", 3, "tagged"], "last"]);
  } finally {
    await closeQueue(q);
  }
});

// Done-aware producer/consumer endpoints over a real redis-server: the
// in-process IterableQueue's rules in one process, then producers and
// consumers in separate processes, a producer killed with SIGKILL (its lease
// runs out) and a consumer killed with SIGKILL (its items are taken over).
import assert from "node:assert/strict";
import { test } from "node:test";
import { iterMsg, type Msg, type Queue } from "../../mod.ts";
import {
  closeQueue,
  QueueDoneError,
  redisIterableQueue,
  redisQueue,
} from "../../redis.ts";
import { here } from "../_helpers.ts";
import {
  type Child,
  queueNamer,
  redisForTests,
  startScript,
  within,
} from "./_server.ts";

const fixture = here("./redis/fixtures/iterable_worker.ts");

const redis = redisForTests();
const name = queueNamer();

const start = (args: string[]): Child => startScript(fixture, args);

function producer(
  q: string,
  producers: number,
  ttl: number,
  from: number,
  count: number,
  hang: "" | "hang" | "spin" = "",
): Child {
  return start([
    "produce",
    redis.url,
    q,
    String(producers),
    String(ttl),
    String(from),
    String(count),
    ...(hang ? [hang] : []),
  ]);
}

function consumer(q: string, out: string, slowMs = 0, claimIdle = 1000) {
  return start([
    "consume",
    redis.url,
    q,
    out,
    String(slowMs),
    String(claimIdle),
  ]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(ms: number, what: string, ok: () => boolean) {
  await within(
    ms,
    what,
    (async () => {
      while (!ok()) await sleep(10);
    })(),
  );
}

async function outputs(out: string): Promise<Msg<[number, number, number]>[]> {
  const q: Queue<[number, number, number]> = await redisQueue(redis.url, out);
  try {
    await q.end();
    const got: Msg<[number, number, number]>[] = [];
    for await (const msg of iterMsg(q)) got.push(msg);
    return got;
  } finally {
    await closeQueue(q);
  }
}

const range = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => from + i);

function exits(children: Child[], ms: number, what: string) {
  return within(ms, what, Promise.all(children.map((c) => c.exit)));
}

/** What a consumer printed last: its count. */
const lastNumber = (stdout: string) => Number(stdout.trim().split("\n").pop());

function stderrs(children: Child[]): string {
  return children.map((c) => c.stderr).join("\n");
}

test("in one process: IterableQueue's rules — empty for now vs done, no put after close, no producer after the queue closed", async () => {
  const iq = await redisIterableQueue<string>(redis.url, name("rules"));
  try {
    const p = await iq.producer();
    const c = await iq.consumer();
    await assert.rejects(
      c.get({ timeout: 100 }),
      (e: Error) => e.name === "TimeoutError",
      "not closed to new producers yet",
    );
    await p.put("a");
    assert.equal(await c.get(), "a");
    await iq.close();
    await assert.rejects(
      c.get({ timeout: 100 }),
      (e: Error) => e.name === "TimeoutError",
      "a producer is open",
    );
    await assert.rejects(iq.producer(), /it was closed/);
    await p.put("b");
    await p.close();
    await p.close(); // a second close does nothing
    await assert.rejects(p.put("c"), /this producer has closed/);
    assert.equal(await c.get(), "b");
    await assert.rejects(c.get({ timeout: 5000 }), QueueDoneError);
    await assert.rejects(c.get(), QueueDoneError, "once done, always done");
    // Another handle, as in another process: done at once.
    const later = await redisIterableQueue<string>(redis.url, iq.name);
    const seen: string[] = [];
    for await (const item of await later.consumer()) seen.push(item);
    assert.deepEqual(seen, []);
    await later.disconnect();
  } finally {
    await iq.disconnect();
  }
});

test("in one process: the producers count closes the queue; a waiting consumer is released by the last close", async () => {
  const iq = await redisIterableQueue<number>(redis.url, name("count"), {
    producers: 2,
  });
  try {
    const c = await iq.consumer();
    const got: number[] = [];
    const reading = (async () => {
      for await (const n of c) got.push(n);
    })();
    const p1 = await iq.producer();
    await p1.put(1);
    await p1.close();
    await sleep(700); // a consumer's empty wait and a second look
    assert.deepEqual(got, [1], "one producer closed; the second is to come");
    const p2 = await iq.producer();
    await assert.rejects(iq.producer(), /it was closed/, "2 of 2 made");
    await p2.put(2);
    await p2.close();
    await within(5000, "the consumer's loop", reading);
    assert.deepEqual(got, [1, 2]);
  } finally {
    await iq.disconnect();
  }
});

test("in one process: a producer silent past producerTtl counts as closed and its puts are refused", async () => {
  const iq = await redisIterableQueue<number>(redis.url, name("silent"), {
    producers: 1,
    producerTtl: 300,
  });
  try {
    const p = await iq.producer();
    await p.put(1);
    const c = await iq.consumer();
    assert.equal(await c.get(), 1);
    // The event loop blocked for 5 leases: no renewal gets out.
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      // blocked
    }
    // The next renewal (every producerTtl / 5) finds the lease gone; a
    // loaded machine may run that timer late, so give it many periods.
    await sleep(1500);
    await assert.rejects(p.put(2), /silent for more than producerTtl/);
    await assert.rejects(p.close(), /silent for more than producerTtl/);
    await assert.rejects(c.get({ timeout: 5000 }), QueueDoneError);
  } finally {
    await iq.disconnect();
  }
});

test("2 producer processes + 2 consumer processes: every item once, consumers end by themselves when both producers closed", async () => {
  const q = name("pc");
  const out = name("pc-out");
  const N = 5000;
  // Consumers first: they wait for producers that have not opened yet.
  // A long claim time: a consumer descheduled on a busy machine must not be
  // taken for dead (at least once would then count its items twice).
  const consumers = [0, 1].map(() => consumer(q, out, 0, 10_000));
  await sleep(500);
  const producers = [0, 1].map((p) => producer(q, 2, 5000, p * N, N));
  const all = [...producers, ...consumers];
  try {
    const codes = await exits(all, 60_000, "producers' and consumers' exit");
    assert.deepEqual(codes, [0, 0, 0, 0], stderrs(all));
    const got = await outputs(out);
    assert.deepEqual(
      got.map((m) => m.data[0]).sort((a, b) => a - b),
      range(0, 2 * N),
    );
    assert.ok(got.every((m) => m.data[1] === 1), "no item delivered twice");
    const counts = consumers.map((c) => lastNumber(c.stdout));
    assert.equal(counts[0] + counts[1], 2 * N);
    console.log(
      `2 producer + 2 consumer processes: ${2 * N} items put, consumed ${
        counts.join(" + ")
      }, each once`,
    );
  } finally {
    for (const c of all) c.child.kill("SIGKILL");
  }
});

test("a producer killed with SIGKILL keeps the consumers waiting only until its lease runs out", async () => {
  const q = name("pkill");
  const out = name("pkill-out");
  const N = 1000;
  const TTL = 1000;
  const consumers = [0, 1].map(() => consumer(q, out, 0, 10_000));
  const victim = producer(q, 2, TTL, 0, N, "hang");
  const other = producer(q, 2, TTL, N, N);
  const all = [victim, other, ...consumers];
  try {
    await until(
      20_000,
      "the victim's puts",
      () => victim.stdout.includes("put"),
    );
    assert.equal(await within(20_000, "the other producer", other.exit), 0);
    // Everything is read; the victim's lease is renewed: not done.
    await sleep(TTL + 500);
    assert.ok(
      consumers.every((c) => Number.isNaN(c.exitedAt)),
      "consumers wait while a producer is open",
    );
    victim.child.kill("SIGKILL");
    const killedAt = performance.now();
    assert.equal(await victim.exit, null);
    const codes = await exits(consumers, TTL + 10_000, "consumers' exit");
    assert.deepEqual(codes, [0, 0], stderrs(consumers));
    const ended = Math.max(...consumers.map((c) => c.exitedAt)) - killedAt;
    assert.ok(ended < TTL + 5000, `consumers ended ${ended} ms after the kill`);
    const got = await outputs(out);
    assert.deepEqual(
      got.map((m) => m.data[0]).sort((a, b) => a - b),
      range(0, 2 * N),
    );
    console.log(
      `SIGKILL producer test: ${
        2 * N
      } items put (${N} by the killed producer), ${got.length} consumed, consumers ended ${
        Math.round(ended)
      } ms after the kill (producerTtl ${TTL} ms)`,
    );
  } finally {
    for (const c of all) c.child.kill("SIGKILL");
  }
});

test("a consumer killed with SIGKILL mid-run loses nothing: the others take over its items and end by themselves", async () => {
  const q = name("ckill");
  const out = name("ckill-out");
  const N = 2000;
  const producers = [0, 1].map((p) => producer(q, 2, 5000, p * N, N));
  const victim = consumer(q, out, 2);
  const survivors = [0, 1].map(() => consumer(q, out, 2));
  const all = [...producers, victim, ...survivors];
  try {
    await until(
      20_000,
      "the victim's start",
      () => victim.stdout.includes("started"),
    );
    // Mid-run: every item is in, and the consumers are still at it.
    assert.deepEqual(
      await exits(producers, 20_000, "producers' exit"),
      [0, 0],
      stderrs(producers),
    );
    await sleep(100);
    victim.child.kill("SIGKILL");
    const killedAt = performance.now();
    const killedAtClock = Date.now();
    assert.equal(await victim.exit, null);
    const codes = await exits(
      [...producers, ...survivors],
      30_000,
      "producers' and survivors' exit",
    );
    assert.deepEqual(codes, [0, 0, 0, 0], stderrs(all));
    const done = Math.max(...survivors.map((c) => c.exitedAt)) - killedAt;
    const got = await outputs(out);
    const distinct = new Set<number>();
    const onFirstAttempt = new Set<number>();
    let redelivered = 0;
    let duplicates = 0;
    let recovered = 0; // when the last redelivered item was finished
    for (const { data: [item, attempt, at] } of got) {
      if (attempt > 1) {
        redelivered++;
        recovered = Math.max(recovered, at - killedAtClock);
      } else {
        assert.ok(!onFirstAttempt.has(item), `item ${item} twice on attempt 1`);
        onFirstAttempt.add(item);
      }
      if (distinct.has(item)) duplicates++;
      distinct.add(item);
    }
    assert.deepEqual([...distinct].sort((a, b) => a - b), range(0, 2 * N));
    assert.ok(redelivered > 0, "the victim held items when it was killed");
    console.log(
      `SIGKILL consumer test: ${
        2 * N
      } items put (2 producer processes), ${got.length} consumed, ${distinct.size} distinct (none lost), ${redelivered} redelivered after the kill (attempt > 1), ${duplicates} duplicates, the victim's items finished ${recovered} ms and the queue done ${
        Math.round(done)
      } ms after the kill (claimIdle 1000 ms)`,
    );
  } finally {
    for (const c of all) c.child.kill("SIGKILL");
  }
});

test("a producer SIGKILLed right after its puts resolved: every resolved put reaches a consumer", async () => {
  const q = name("pkept");
  const out = name("pkept-out");
  const N = 3000;
  const TTL = 1000;
  const consumers = [0, 1].map(() => consumer(q, out, 0, 10_000));
  const victim = producer(q, 1, TTL, 0, N, "spin");
  const all = [victim, ...consumers];
  try {
    // Killed as soon as it says its puts resolved.
    await within(
      20_000,
      "the victim's puts",
      new Promise<void>((resolve) => {
        victim.child.stdout!.on("data", () =>
          queueMicrotask(() => {
            if (victim.stdout.includes("put")) {
              victim.child.kill("SIGKILL");
              resolve();
            }
          }));
        victim.exit.then(() => resolve());
      }),
    );
    assert.equal(await victim.exit, null, victim.stderr);
    const codes = await exits(consumers, TTL + 20_000, "consumers' exit");
    assert.deepEqual(codes, [0, 0], stderrs(consumers));
    const got = (await outputs(out)).map((m) => m.data[0]);
    assert.deepEqual(
      got.sort((a, b) => a - b),
      range(0, N),
      `${got.length} of ${N} resolved puts reached a consumer`,
    );
  } finally {
    for (const c of all) c.child.kill("SIGKILL");
  }
});

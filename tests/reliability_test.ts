// Reliability: items survive dead workers; timeouts, aborts and memory
// limits end workers cleanly; nothing hangs.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  endqAndWait,
  Queue,
  run,
  task,
  WorkerError,
  type WorkerHandle,
} from "../mod.ts";
import { here } from "./_helpers.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("./fixtures/tasks.ts");
const isNode = !("Deno" in globalThis) && !("Bun" in globalThis);

async function reason(handle: WorkerHandle<unknown>): Promise<WorkerError> {
  const error = await handle.result.then(() => undefined, (e) => e);
  assert.ok(
    error instanceof WorkerError,
    `expected a WorkerError, got ${error}`,
  );
  return error;
}

// 100,000 items through 4 workers that die at random moments; dead workers
// are replaced. Every item must come out; an item may come out twice only
// when it was redelivered, and then the extra copy says so (attempt > 1).
async function faultInjection(mode: "exit" | "throw" | "hang") {
  const N = 100_000;
  const inQ = new Queue<number>({ name: `faults-${mode}` });
  const outQ = new Queue<[number, number]>();
  const flaky = task<Tasks, "flaky">(tasks, "flaky");
  const oneIn = mode === "hang" ? Infinity : 8000;
  let deaths = 0;
  let stopping = false;
  const workers = new Set<WorkerHandle<number>>();
  const start = () => {
    const handle = run(flaky, inQ, outQ, mode, oneIn);
    workers.add(handle);
    handle.result.then(() => {}, () => {
      deaths++;
      workers.delete(handle);
      if (!stopping) start();
    });
  };
  for (let i = 0; i < 4; i++) start();
  for (let i = 0; i < N; i++) await inQ.put(i);
  // "hang": the test terminates a random worker now and then (a bounded
  // number of times, so that the run ends even on a slow, loaded machine).
  let kills = 0;
  const killer = mode === "hang"
    ? setInterval(() => {
      if (kills >= 8) return;
      const list = [...workers];
      const victim = list[Math.floor(Math.random() * list.length)];
      if (victim) {
        kills++;
        void victim.terminate();
      }
    }, 150)
    : undefined;
  const firsts = new Uint8Array(N);
  const seen = new Uint8Array(N);
  let distinct = 0;
  while (distinct < N) {
    const [value, attempt] = (await outQ.get({ timeout: 30_000 })).data;
    if (attempt === 1) firsts[value]++;
    if (seen[value]++ === 0) distinct++;
  }
  clearInterval(killer);
  stopping = true;
  await endqAndWait(inQ, [...workers]).catch(() => {});
  assert.ok(
    firsts.every((n) => n <= 1),
    "a first delivery is never seen twice",
  );
  assert.equal(distinct, N);
  return deaths;
}

for (const mode of ["exit", "throw", "hang"] as const) {
  test(`fault injection (${mode}): 100,000 items through 4 dying workers, none lost`, async () => {
    const deaths = await faultInjection(mode);
    assert.ok(deaths > 0, "workers did die");
  });
}

test("an item that keeps killing workers becomes a dead letter; the rest go on", async () => {
  const dead: unknown[] = [];
  const inQ = new Queue<number>({
    maxAttempts: 2,
    onDeadLetter: (msg) => dead.push(msg.data),
  });
  const outQ = new Queue<number>();
  for (let i = 0; i < 10; i++) await inQ.put(i);
  const poisoned = task<Tasks, "poisoned">(tasks, "poisoned");
  let deaths = 0;
  // Keep one worker alive until the queue has been drained.
  for (let i = 0; i < 5; i++) {
    const handle = run(poisoned, inQ, outQ, 4);
    await inQ.end();
    const outcome = await handle.result.then(() => "done", () => "died");
    if (outcome === "done") break;
    deaths++;
  }
  assert.equal(deaths, 2, "the poison killed maxAttempts workers");
  assert.deepEqual(dead, [4]);
  assert.equal(inQ.deadLetters.length, 1);
  assert.equal(inQ.deadLetters[0].msg.data, 4);
  assert.match(inQ.deadLetters[0].error.message, /poisoned by 4/);
  await outQ.end();
  const out = [];
  for await (const msg of outQ) out.push(msg.data);
  // At least once: a dying worker's recent results may come twice.
  assert.deepEqual([...new Set(out)].sort((a, b) => a - b), [
    0,
    1,
    2,
    3,
    5,
    6,
    7,
    8,
    9,
  ]);
});

test("a task past its timeout is stopped and reported; the items it held go back", async () => {
  const q = new Queue<number>();
  await q.put(1);
  const hanging = run(
    task<Tasks, "takeOneAndHang">(tasks, "takeOneAndHang", { timeout: 1500 }),
    q,
  );
  while (q.size > 0) await new Promise((r) => setTimeout(r, 5));
  const error = await reason(hanging);
  assert.equal(error.reason, "timeout");
  assert.match(error.message, /timeout of 1500 ms/);
  assert.equal(
    (await q.get({ timeout: 5000 })).attempt,
    2,
    "the held item came back, marked",
  );
});

test("a busy loop past its timeout is stopped, and the process can still finish", async () => {
  const error = await reason(
    run(task<Tasks, "spin">(tasks, "spin", { timeout: 100 })),
  );
  assert.equal(error.reason, "timeout");
});

test("aborting a run's signal stops its worker with the signal's reason as cause", async () => {
  const controller = new AbortController();
  const handle = run(
    task(() => new Promise(() => {}), { signal: controller.signal }),
  );
  setTimeout(() => controller.abort(new Error("user cancelled")), 30);
  const error = await reason(handle);
  assert.equal(error.reason, "aborted");
  assert.equal((error.cause as Error).message, "user cancelled");
  const already = run(task(() => 1, { signal: AbortSignal.abort() }));
  assert.equal((await reason(already)).reason, "aborted");
});

test("a worker past its memory limit is reported as out of memory (Node)", {
  skip: !isNode,
}, async () => {
  const hog = task<Tasks, "hog">(tasks, "hog", {
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  });
  const error = await reason(run(hog));
  assert.equal(error.reason, "memory");
});

test("a dead letter's attempt is the number of deliveries it had: maxAttempts, never more", async () => {
  for (const maxAttempts of [undefined, 1, 2] as const) {
    const inQ = new Queue<number>({ maxAttempts });
    await inQ.put(7);
    const poisoned = task<Tasks, "poisoned">(tasks, "poisoned");
    let deaths = 0;
    while (inQ.deadLetters.length === 0 && deaths < 5) {
      const handle = run(poisoned, inQ, new Queue<number>(), 7);
      await handle.result.catch(() => deaths++);
    }
    const expected = maxAttempts ?? 3;
    assert.equal(deaths, expected, "workers killed");
    assert.equal(inQ.deadLetters.length, 1);
    assert.equal(inQ.deadLetters[0].msg.attempt, expected);
  }
});

test("n workers, n end markers, one worker killed: every item is done and endqAndWait settles", async () => {
  const N = 20_000;
  const inQ = new Queue<number>({ name: "n-markers" });
  const outQ = new Queue<unknown>();
  const echo = task<Tasks, "echo">(tasks, "echo");
  const workers = [run(echo, inQ, outQ), run(echo, inQ, outQ)];
  for (let i = 0; i < N; i++) await inQ.put(i);
  const ended = endqAndWait(inQ, workers).then(
    () => "resolved",
    (e: Error) => e.message,
  );
  const seen = new Set<number>();
  while (seen.size < 100) seen.add((await outQ.get()).data as number);
  await workers[0].terminate();
  while (seen.size < N) {
    seen.add((await outQ.get({ timeout: 20_000 })).data as number);
  }
  assert.match(await ended, /was terminated/);
  assert.equal(workers[1].alive, false, "the survivor ended at its marker");
});

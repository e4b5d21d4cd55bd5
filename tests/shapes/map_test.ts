import assert from "node:assert/strict";
import { test } from "node:test";
import { imap, map, MapFailure, task, WorkerError } from "../../mod.ts";
import { startScript } from "../_child.ts";
import { here, overHttp, runScript, scriptArgv } from "../_helpers.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("../fixtures/tasks.ts");

test("map() runs mpmq's example: results in input order, shared data given to every call", async () => {
  const results = await map(
    (pid: number, shared: { number: number }) => shared.number + pid,
    [0, 1, 2],
    { shared: { number: 10 } },
  );
  assert.deepEqual(results, [10, 11, 12]);
});

test("map() names an input that cannot be cloned by its place in the inputs", async () => {
  for (const chunkSize of [1, 2]) {
    await assert.rejects(
      map((x: unknown) => typeof x, [1, 2, 3, 4, () => 5], {
        chunkSize,
        concurrency: 1,
      }),
      (error: Error) =>
        error instanceof TypeError &&
        /^Cannot map a task over inputs with input 5: value \(function/
          .test(error.message),
    );
  }
});

test("map() over 100,000 inputs returns every result in order", async () => {
  const inputs = Array.from({ length: 100_000 }, (_, i) => i);
  const results = await map((x: number) => x * 2, inputs, { concurrency: 2 });
  assert.equal(results.length, 100_000);
  assert.ok(results.every((r, i) => r === i * 2));
});

test("imap() yields in input order by default, and as they complete with ordered: false", async () => {
  const sleepy = task<Tasks, "sleepy">(tasks, "sleepy");
  // One slow input first: a second worker finishes the quick one long before.
  const delays = [1500, 10];
  const inOrder = [];
  for await (
    const r of imap(sleepy, delays, { concurrency: 2, chunkSize: 1 })
  ) inOrder.push(r);
  assert.deepEqual(inOrder, [1500, 10]);
  const asDone = [];
  for await (
    const r of imap(sleepy, delays, {
      concurrency: 2,
      chunkSize: 1,
      ordered: false,
    })
  ) asDone.push(r);
  assert.deepEqual(asDone, [10, 1500]);
});

test("raiseIfError: the first failure rejects; with false, a MapFailure takes the input's slot", async () => {
  const failOnThree = task<Tasks, "failOnThree">(tasks, "failOnThree");
  await assert.rejects(
    map(failOnThree, [1, 2, 3, 4]),
    (e: Error) => e instanceof RangeError && /three/.test(e.message),
  );
  const results = await map(failOnThree, [1, 2, 3, 4], { raiseIfError: false });
  assert.deepEqual(results.slice(0, 2), [1, 2]);
  assert.ok(results[2] instanceof MapFailure);
  assert.equal((results[2] as MapFailure).offset, 2);
  assert.match(
    ((results[2] as MapFailure).error as Error).message,
    /three is not allowed/,
  );
  assert.equal(results[3], 4);
});

test("imap() pulls inputs lazily: an endless stream runs in bounded memory", async () => {
  let pulled = 0;
  async function* endless() {
    for (let i = 0;; i++) {
      pulled++;
      yield i;
    }
  }
  let seen = 0;
  for await (
    const r of imap((x: number) => x + 1, endless(), { concurrency: 2 })
  ) {
    assert.equal(r, ++seen);
    if (seen === 2000) break;
  }
  assert.ok(pulled < 2000 + 5000, `pulled ${pulled} inputs for 2000 results`);
});

test("logs from tasks reach onMessage with the input's offset and level", async () => {
  const messages: [number, string, string][] = [];
  const results = await map(task<Tasks, "chatty">(tasks, "chatty"), [5, 6], {
    onMessage: (offset, message, level) =>
      messages.push([offset, message, level]),
  });
  assert.deepEqual(results, [10, 12]);
  const sorted = messages.sort((a, b) =>
    a[0] - b[0] || a[2].localeCompare(b[2])
  );
  assert.deepEqual(sorted, [
    [0, "working on 5", "info"],
    [0, "careful with 5", "warn"],
    [1, "working on 6", "info"],
    [1, "careful with 6", "warn"],
  ]);
});

test("onProgress reports done, total and rate as inputs finish", async () => {
  const seen: number[] = [];
  await map((x: number) => x, Array.from({ length: 50 }, (_, i) => i), {
    chunkSize: 5,
    onProgress: (p) => {
      assert.equal(p.total, 50);
      assert.ok(p.rate >= 0);
      seen.push(p.done);
    },
  });
  assert.equal(seen[seen.length - 1], 50);
  assert.deepEqual([...seen].sort((a, b) => a - b), seen, "done only grows");
});

test("maxTasksPerWorker recycles workers: module state starts over", async () => {
  const counted = task<Tasks, "counted">(tasks, "counted");
  const counts = await map(
    counted,
    Array.from({ length: 12 }, () => undefined),
    {
      concurrency: 2,
      chunkSize: 1,
      maxTasksPerWorker: 3,
    },
  );
  assert.equal(counts.length, 12);
  assert.ok(
    counts.every((n) => (n as number) <= 3),
    `calls per worker: ${counts}`,
  );
});

test("a per-input timeout fails that input only; the others finish", async () => {
  const results = await map(task<Tasks, "sleepy">(tasks, "sleepy"), [
    10,
    5000,
    20,
  ], {
    timeout: 500,
    raiseIfError: false,
  });
  assert.equal(results[0], 10);
  assert.equal(results[2], 20);
  const failure = results[1] as MapFailure;
  assert.ok(failure instanceof MapFailure);
  assert.ok(failure.error instanceof WorkerError);
  assert.equal((failure.error as WorkerError).reason, "timeout");
});

test("an aborted signal stops the map and rejects with its reason", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("enough")), 100);
  await assert.rejects(
    map(
      task<Tasks, "sleepy">(tasks, "sleepy"),
      Array.from({ length: 20 }, () => 200),
      { signal: controller.signal },
    ),
    /enough/,
  );
});

test("Ctrl-C during a map stops the workers, rejects clearly, and the process exits", async () => {
  const { spawn } = await import("node:child_process");
  const process = (await import("node:process")).default;
  const args = scriptArgv(here("./fixtures/map_sigint.ts"));
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const started = new Promise<void>((resolve) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("started")) resolve();
    });
  });
  await started;
  child.kill("SIGINT");
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`did not exit; output: ${out}`)),
      15_000,
    );
    child.on("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  // (Deno's child_process reports a child that handled SIGINT as killed by it.)
  assert.ok(code === 0 || "Deno" in globalThis, `exit code ${code}`);
  assert.match(out, /caught: .*interrupted \(SIGINT\)/);
  assert.doesNotMatch(out, /finished/);
  void runScript;
});

for (const kind of ["sync", "async"]) {
  for (const how of ["break", "throw"]) {
    test(`imap(): a ${how} in the loop closes the ${kind} input iterator (its finally runs) and stops the workers`, async () => {
      let closed = false;
      let pulled = 0;
      function* syncInputs() {
        try {
          for (let i = 0;; i++) {
            pulled++;
            yield i;
          }
        } finally {
          closed = true;
        }
      }
      async function* asyncInputs() {
        try {
          for (let i = 0;; i++) {
            pulled++;
            yield i;
          }
        } finally {
          closed = true;
        }
      }
      const inputs = kind === "sync" ? syncInputs() : asyncInputs();
      let seen = 0;
      const loop = async () => {
        for await (
          const r of imap((x: number) => x + 1, inputs, { concurrency: 2 })
        ) {
          assert.equal(r, ++seen);
          if (seen === 50) {
            if (how === "throw") throw new Error("enough");
            break;
          }
        }
      };
      if (how === "throw") await assert.rejects(loop(), /enough/);
      else await loop();
      assert.equal(closed, true, "the input's finally ran");
      assert.ok(pulled < 50 + 5000, `pulled ${pulled} inputs for 50 results`);
    });
  }
}

test("a map whose workers die before they are up rejects after a few tries, naming the cause; timers run meanwhile", async () => {
  const child = startScript(here("./fixtures/map_nostart.ts"), ["exits"]);
  await child.exit(30_000);
  const out = child.stdout();
  assert.match(
    out,
    /caught: Cannot map "[^"]+": \d+ workers in a row failed to start; the last: .*exited with code/,
    child.stderr().slice(0, 2000),
  );
  assert.match(out, /cause: .*exited with code/);
  assert.match(out, /timers ran: true/);
});

test(
  "Deno without read access to workq's files: map() rejects naming the cause instead of respawning forever",
  {
    skip: !("Deno" in globalThis) ||
      (overHttp && "over http workq's files are not read from disk"),
  },
  async () => {
    const { fileURLToPath } = await import("node:url");
    const own = fileURLToPath(here("./fixtures/"));
    const child = startScript(here("./fixtures/map_nostart.ts"), ["plain"], {
      deno: [`--allow-read=${own}`],
    });
    await child.exit(30_000);
    const out = child.stdout();
    assert.match(
      out,
      /caught: Cannot map "[^"]+": \d+ workers in a row failed to start; the last: /,
      child.stderr().slice(0, 2000),
    );
    assert.match(out, /cause: .*(read|permission|Requires|NotCapable)/i);
    assert.match(out, /timers ran: true/);
  },
);

// setWorkerUrl: workers started from the combined worker entry (the
// `@workq/workq/worker` export, src/worker/main.ts), as a bundled app starts
// them, on every runtime; and what it refuses. tests/browser/bundlers.mjs
// runs it from real esbuild and Vite builds.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  endqAndWait,
  map,
  Pool,
  ProcessQueue,
  Queue,
  run,
  setWorkerUrl,
  task,
} from "../../mod.ts";
import { here } from "../_helpers.ts";

const tasks = here("./fixtures/tasks.ts");
type Tasks = typeof import("../fixtures/tasks.ts");
const combined = here("../src/worker/main.ts");

/** Runs `body` with workers started from the combined entry, then resets. */
async function fromCombined<T>(body: () => Promise<T>): Promise<T> {
  setWorkerUrl(combined);
  try {
    return await body();
  } finally {
    setWorkerUrl(undefined);
  }
}

test("setWorkerUrl: run() with a function task and a module task", async () => {
  const [fn, mod] = await fromCombined(() =>
    Promise.all([
      run((a: number, b: number) => a * b, 6, 7).result,
      run(task<Tasks, "counted">(tasks, "counted")).result,
    ])
  );
  assert.deepEqual([fn, mod], [42, 1]);
});

test("setWorkerUrl: a Queue read by two workers (ezq's sum)", async () => {
  const total = await fromCombined(async () => {
    const inQ = new Queue<number>();
    const outQ = new Queue<number>();
    const workers = Array.from(
      { length: 2 },
      () =>
        run(
          async (inQ: Queue<number>, outQ: Queue<number>) => {
            let count = 0;
            for await (const msg of inQ) count += msg.data;
            await outQ.put(count);
          },
          inQ,
          outQ,
        ),
    );
    for (let i = 0; i < 1000; i++) await inQ.put(i);
    await endqAndWait(inQ, workers);
    await outQ.end();
    let sum = 0;
    for await (const msg of outQ) sum += msg.data;
    return sum;
  });
  assert.equal(total, 499500);
});

test("setWorkerUrl: map() and Pool run their drivers from the combined entry", async () => {
  const [mapped, pooled] = await fromCombined(async () => {
    const mapped = await map((n: number) => n + 1, [1, 2, 3], {
      concurrency: 2,
    });
    const pool = new Pool({ maxWorkers: 1 });
    try {
      return [mapped, await pool.run((n: number) => n * 3, 5)] as const;
    } finally {
      await pool.close();
    }
  });
  assert.deepEqual(mapped, [2, 3, 4]);
  assert.equal(pooled, 15);
});

test("setWorkerUrl: ProcessQueue runs its driver from the combined entry", async () => {
  // The handler's one error comes back: the driver ran it, item by item.
  const failures: [string, number][] = [];
  const done = await fromCombined(async () => {
    const pq = new ProcessQueue((item: { n: number }) => {
      if (item.n === 2) throw new Error("two");
    }, {
      onError: (error, item) =>
        failures.push([(error as Error).message, item.n]),
    });
    pq.start([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await pq.onIdle();
    return pq.done;
  });
  assert.deepEqual(failures, [["two", 2]]);
  assert.equal(done, true);
});

test("setWorkerUrl(undefined) goes back to workq's own entry", async () => {
  setWorkerUrl(combined);
  setWorkerUrl(undefined);
  assert.deepEqual(await map((n: number) => n * 2, [1, 2]), [2, 4]);
});

test("setWorkerUrl refuses what is not a URL, and names it", () => {
  assert.throws(
    () => setWorkerUrl(42 as never),
    {
      name: "TypeError",
      message:
        "Cannot set the worker URL: expected a URL or a string, received number 42",
    },
  );
  // No page here to resolve a relative URL against.
  const relative = "location" in globalThis ? "http://[" : "./worker.js";
  assert.throws(() => setWorkerUrl(relative), {
    name: "TypeError",
    message: new RegExp(
      `^Cannot set the worker URL: "${
        relative.replace(/[.[]/g, "\\$&")
      }" is not a URL`,
    ),
  });
  // A refused URL leaves the one in use as it was.
  return run((n: number) => n + 1, 1).result.then((got) =>
    assert.equal(got, 2)
  );
});

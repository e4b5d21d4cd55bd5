// The browser lane's cases, run in the page (tests/browser/page.html). Each
// returns plain values computed in the page, which the runner
// (tests/browser/chromium.mjs) asserts on. workq and its test fixtures come
// from `?lib=` (another origin in the cross-origin variant), as a page loads
// them from a CDN.
//
// No top-level await: `workqCases` exists once the module has run (before
// the page's load event), and settles when workq has loaded.
const params = new URLSearchParams(location.search);
const lib = new URL("./", params.get("lib"));
const tasks = new URL("dist/tests/fixtures/tasks.js", lib);
let endq, endqAndWait, iterMsg, map, MapFailure, Msg, NUM_CPUS, Pool, Queue;
let run, task, transfer, WorkerError;

/** What a rejected promise gave, as plain values. */
async function failure(promise) {
  try {
    await promise;
    return { resolved: true };
  } catch (error) {
    return {
      name: error?.name,
      message: String(error?.message),
      cause: error?.cause?.message,
      isRangeError: error instanceof RangeError,
      isWorkerError: error instanceof WorkerError,
    };
  }
}

const cases = {
  // The README's quick start, as written there.
  async quickStart() {
    async function worker(inQ, outQ) {
      let count = 0;
      for await (const msg of iterMsg(inQ)) count += msg.data;
      await outQ.put(new Msg({ data: count }));
    }
    const inQ = new Queue();
    const outQ = new Queue();
    const workers = Array.from(
      { length: NUM_CPUS },
      () => run(worker, inQ, outQ),
    );
    for (let i = 0; i < 1000; i++) await inQ.put(new Msg({ data: i }));
    await endqAndWait(inQ, workers);
    await endq(outQ);
    let result = 0;
    for await (const msg of iterMsg(outQ)) result += msg.data;
    return result;
  },

  async moduleTask() {
    return await run(task(tasks, "identity"), { a: [1, 2], b: "x" }).result;
  },

  async functionTask() {
    return await run((a, b) => a * b, 6, 7).result;
  },

  // 16 MiB moved to the worker and back: detached here, filled there.
  async transfer() {
    const size = 16 * 1024 * 1024;
    const buffer = new ArrayBuffer(size);
    const handle = run(task(tasks, "fill"), transfer(buffer, [buffer]), 7);
    const detached = buffer.byteLength;
    const bytes = await handle.result;
    return {
      detached,
      back: bytes.byteLength,
      first: bytes[0],
      last: bytes[size - 1],
      isUint8Array: bytes instanceof Uint8Array,
    };
  },

  async errors() {
    return {
      module: await failure(run(task(tasks, "fail"), "boom").result),
      fn: await failure(
        run(() => {
          throw new TypeError("not a number");
        }).result,
      ),
    };
  },

  // One input sleeps past the timeout: it fails, the others finish.
  async mapTimeout() {
    const results = await map(task(tasks, "sleepy"), [10, 4000, 20], {
      timeout: 300,
      raiseIfError: false,
    });
    const slow = results[1];
    // An input that never yields: only its stamp, sent before it ran, tells.
    const [spun] = await map(task(tasks, "spin"), [1], {
      timeout: 300,
      raiseIfError: false,
    });
    return {
      spun: spun?.error?.reason,
      first: results[0],
      last: results[2],
      isFailure: slow instanceof MapFailure,
      reason: slow?.error?.reason,
    };
  },

  // Two workers read one queue; one is terminated halfway: every item comes
  // out, a first delivery never twice.
  async redelivery() {
    const N = 2000;
    const inQ = new Queue({ name: "redelivery" });
    const outQ = new Queue();
    const flaky = task(tasks, "flaky");
    const workers = [
      run(flaky, inQ, outQ, "hang", Infinity),
      run(flaky, inQ, outQ, "hang", Infinity),
    ];
    for (let i = 0; i < N; i++) await inQ.put(i);
    const ended = endqAndWait(inQ, workers).then(
      () => "resolved",
      (e) => e.message,
    );
    const seen = new Uint8Array(N);
    const firsts = new Uint8Array(N);
    let distinct = 0;
    let results = 0;
    let marked = 0;
    const take = async () => {
      const [value, attempt] = (await outQ.get({ timeout: 20_000 })).data;
      results++;
      if (attempt === 1) firsts[value]++;
      else marked++;
      if (seen[value]++ === 0) distinct++;
    };
    while (distinct < 100) await take();
    await workers[0].terminate();
    while (distinct < N) await take();
    const endedWith = await ended;
    // Whatever else comes out after the survivor's end marker.
    await endq(outQ);
    for await (const msg of iterMsg(outQ)) {
      results++;
      if (msg.data[1] !== 1) marked++;
    }
    return {
      distinct,
      results,
      marked,
      firstTwice: firsts.some((n) => n > 1),
      terminated: /was terminated/.test(endedWith),
    };
  },

  // A worker that starts a worker.
  async nested() {
    return await run(async (n) => {
      const inner = run((m) => m * 10, n + 1);
      return [n, await inner.result];
    }, 4).result;
  },

  async poolRun() {
    const pool = new Pool({ maxWorkers: 2 });
    try {
      return await Promise.all([
        pool.run((a, b) => a + b, 2, 3),
        pool.run(task(tasks, "identity"), "warm"),
      ]);
    } finally {
      await pool.close();
    }
  },

  // A task module that is not there: the error names its URL and why.
  async missingTaskModule() {
    const gone = new URL("dist/tests/fixtures/no_such_tasks.js", lib);
    return { url: gone.href, ...await failure(run(task(gone, "f")).result) };
  },

  // workq served without its worker entry (a bundler's split that lost it).
  async brokenEntry() {
    const entry = new URL("dist/src/worker/entry.js", lib).href;
    return { entry, ...await failure(run(() => 1).result) };
  },

  // The same in a shape, which replaces dead workers: it gives up, as a
  // failed start, and does not respawn forever (without SharedArrayBuffer
  // too, where no worker can say it is up).
  async brokenMap() {
    const entry = new URL("dist/src/worker/entry.js", lib).href;
    return { entry, ...await failure(map((x) => x, [1, 2, 3])) };
  },

  // A second copy of workq from another URL, in the page and in a task
  // module: either one reading this copy's queue names both copies.
  async twoCopies() {
    const url = new URL("dist/mod.js", params.get("other")).href;
    const other = await import(url);
    const q = new Queue();
    await q.put(1);
    await endq(q);
    const drainWith = task(
      new URL("dist/tests/fixtures/errors/tasks.js", lib),
      "drainWith",
    );
    return {
      url,
      page: await failure((async () => {
        for await (const _ of other.iterMsg(q)) return "read";
      })()),
      worker: await failure(run(drainWith, url, q).result),
    };
  },

  // Under a CSP without 'unsafe-eval': the error says why and what to use.
  async functionTaskCsp() {
    return await failure(run((a, b) => a * b, 6, 7).result);
  },
};

globalThis.workqCases = import(new URL("dist/mod.js", lib).href).then((w) => {
  ({ endq, endqAndWait, iterMsg, map, MapFailure, Msg, NUM_CPUS, Pool } = w);
  ({ Queue, run, task, transfer, WorkerError } = w);
  return cases;
});

// The bundled apps' cases (tests/browser/bundlers.mjs builds them with each
// bundler): what a page that bundles workq does, checked in the page. Each
// returns plain values, which the runner asserts on too. The bundler's entry
// (esbuild_app.js, vite_app.js) gives where its worker entry and its module
// task ended up.
import {
  endq,
  endqAndWait,
  iterMsg,
  map,
  Msg,
  Pool,
  Queue,
  run,
  setWorkerUrl,
  task,
} from "@workq/workq";

/**
 * ezq's sum (examples/sum.ts): N numbers through a Queue to 2 workers. The
 * workers read the queue itself rather than through iterMsg: a function
 * task runs from its source, and a minifier (Vite's) renames the imports
 * that source would name.
 */
async function sum() {
  const N = 100_000;
  const inQ = new Queue();
  const outQ = new Queue();
  const workers = Array.from({ length: 2 }, () =>
    run(
      async (inQ, outQ) => {
        let count = 0;
        for await (const msg of inQ) count += msg.data;
        await outQ.put(count);
      },
      inQ,
      outQ,
    ));
  for (let i = 0; i < N; i++) await inQ.put(new Msg({ data: i }));
  await endqAndWait(inQ, workers);
  await endq(outQ);
  let result = 0;
  for await (const msg of iterMsg(outQ)) result += msg.data;
  if (result !== (N * (N - 1)) / 2) throw new Error(`wrong sum ${result}`);
  return result;
}

/**
 * The cases, once `setWorkerUrl` has the bundled worker entry; `square` is
 * the app's module task (`n * n`), wherever its bundler put it.
 */
export function bundledCases(workerUrl, square) {
  setWorkerUrl(workerUrl);
  return {
    sum,
    functionTask: () => run((a, b) => a * b, 6, 7).result,
    moduleTask: () => run(square, 12).result,
    map: () => map((n) => n + 1, [1, 2, 3, 4, 5]),
    // Without setWorkerUrl a bundled app's worker is looked for as workq's
    // own entry beside the bundle, which is not there.
    async withoutWorkerUrl() {
      setWorkerUrl(undefined);
      try {
        await run((n) => n, 1).result;
        return { resolved: true };
      } catch (error) {
        return { name: error.name, message: error.message };
      } finally {
        setWorkerUrl(workerUrl);
      }
    },
    async pool() {
      const pool = new Pool({ maxWorkers: 2 });
      try {
        return await Promise.all([
          pool.run((n) => n * 3, 5),
          pool.run(square, 9),
        ]);
      } finally {
        await pool.close();
      }
    },
  };
}

/** The moduleTask case's task: `square` exported from `module`. */
export function squareIn(module) {
  return task(new URL(module, location.href), "square");
}

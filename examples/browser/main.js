// The page's module (index.html): ezq's sum over a Queue and two workers,
// then an ArrayBuffer moved to a worker and back without a copy. Plain
// JavaScript, since a browser cannot run the .ts sources; "@workq/workq"
// comes from the page's import map.
import {
  endq,
  endqAndWait,
  iterMsg,
  Msg,
  Queue,
  run,
  transfer,
} from "@workq/workq";

const show = (id, text) => {
  document.getElementById(id).textContent = text;
};

/** Adds up all the messages (runs in a worker, sent as source). */
async function worker(inQ, outQ) {
  let count = 0;
  for await (const msg of iterMsg(inQ)) count += msg.data;
  await outQ.put(new Msg({ data: count }));
}

async function sum() {
  const inQ = new Queue(); // to send work
  const outQ = new Queue(); // to get results
  const workers = [run(worker, inQ, outQ), run(worker, inQ, outQ)];
  for (let i = 0; i < 1000; i++) await inQ.put(new Msg({ data: i }));
  await endqAndWait(inQ, workers); // end the work queue and wait for the workers
  await endq(outQ); // end the result queue so we can iterate over it
  let result = 0;
  for await (const msg of iterMsg(outQ)) result += msg.data;
  return result;
}

/** Sums the bytes it is given and sends the buffer back (in a worker). */
async function checksum(jobs) {
  const msg = await jobs.get();
  const bytes = new Uint8Array(msg.data);
  let total = 0;
  for (let i = 0; i < bytes.length; i++) total += bytes[i];
  // workq's exports are in a function task's scope: transfer() moves it back.
  return transfer({ buffer: msg.data, total }, [msg.data]);
}

async function moveBuffer() {
  const size = 16 * 1024 * 1024;
  const buffer = new ArrayBuffer(size);
  new Uint8Array(buffer).fill(3);
  const jobs = new Queue();
  const handle = run(checksum, jobs);
  await jobs.put(buffer, { transfer: [buffer] });
  // Moved, not copied: the page's buffer is now empty (detached).
  const left = buffer.byteLength;
  const { buffer: back, total } = await handle.result;
  return `page kept ${left} bytes; worker summed ${total}; ` +
    `${back.byteLength} bytes came back`;
}

show("isolated", String(globalThis.crossOriginIsolated));
try {
  show("sum", String(await sum()));
  show("transfer", await moveBuffer());
  show("status", "done");
} catch (error) {
  show("status", `failed: ${error}`);
  throw error;
}

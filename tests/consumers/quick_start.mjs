// The README's quick start in plain JavaScript, as a Node user writes it
// against the package from npm (the name JSR's npm compatibility gives it).
import {
  endq,
  endqAndWait,
  iterMsg,
  Msg,
  NUM_CPUS,
  Queue,
  run,
} from "@jsr/workq__workq";

/** Add up all the messages. */
async function worker(inQ, outQ) {
  let count = 0;
  for await (const msg of iterMsg(inQ)) count += msg.data;
  await outQ.put(new Msg({ data: count })); // when inQ is done, put the result on outQ
}

const inQ = new Queue(); // to send work
const outQ = new Queue(); // to get results
const workers = Array.from({ length: NUM_CPUS }, () => run(worker, inQ, outQ));
for (let i = 0; i < 1000; i++) await inQ.put(new Msg({ data: i })); // send work

await endqAndWait(inQ, workers); // end the work queue and wait for the workers
await endq(outQ); // end the result queue so we can iterate over it
let result = 0;
for await (const msg of iterMsg(outQ)) result += msg.data;
console.log(result); // 499500

// A typed module task, the README's form: the arguments and the result are
// checked against the export's signature.
import { run, task } from "@workq/workq";

const double = task<typeof import("./tasks.ts"), "double">(
  new URL("./tasks.ts", import.meta.url),
  "double",
);
const n: number = await run(double, 21).result;
console.log(`typed task: ${n}`);

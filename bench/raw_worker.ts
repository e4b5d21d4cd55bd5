// The baseline: a bare worker on the same runtime adapter, no workq protocol.
// It answers each message the way the workq tasks of the benchmark do.
import { runtime } from "../src/runtime/mod.ts";
import { spin } from "./work.ts";

const { parent } = runtime.workerScope();
let total = 0; // ezq's sum, batch by batch until "sumEnd"
parent.listen((data) => {
  const message = data as {
    t: string;
    v?: unknown;
    b?: ArrayBuffer;
    batch?: number[];
  };
  switch (message.t) {
    case "one": // one item per message: x -> x + 1
      parent.post({ t: "one", v: (message.v as number) + 1 });
      break;
    case "batch": // many items per message
      parent.post({ t: "batch", batch: message.batch!.map((x) => x + 1) });
      break;
    case "sumBatch": // ezq's sum on raw postMessage: add, answer nothing
      for (const x of message.batch!) total += x;
      break;
    case "sumEnd":
      parent.post({ t: "sum", v: total });
      total = 0;
      break;
    case "move": // a buffer, moved back
      parent.post({ t: "move", b: message.b }, [message.b!]);
      break;
    case "copy": // a buffer, copied back
      parent.post({ t: "copy", b: message.b });
      break;
    case "spin": // a CPU-bound task
      parent.post({ t: "spin", v: spin(message.v as number) });
      break;
  }
});

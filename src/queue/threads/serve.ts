/**
 * The owner's end of one client's MessagePort: turns the client's messages
 * into broker calls and sends it what the broker hands out.
 * @module
 */
import type { Broker, Consumer, Death, Producer } from "./broker.ts";
import { readProgress, writeReceived } from "./progress.ts";
import { runtime } from "../../runtime/mod.ts";
import { Deque } from "../deque.ts";
import {
  type ClientMessage,
  type OwnerMessage,
  pack,
  unpack,
} from "./protocol.ts";
import type { Entry } from "../entry.ts";
import { soon } from "../../schedule.ts";

type Port = MessagePort & { unref?: () => void };

// Every client port this thread serves, to tell them when the thread's work ends.
const serving = new Set<() => void>();

/**
 * This thread is ending: the queues it owns end with it, so their clients in
 * other threads are told now rather than left waiting (Deno's ports say
 * nothing when the other side goes).
 */
export function shutOwnedQueues(): void {
  for (const shut of [...serving]) shut();
}

const CLOSE_GRACE_MS = 50;

/**
 * Serves one client of `broker` on `port`, whose progress is shared in
 * `cell`. Returns what to call when the client's thread is known to be
 * dead: what it held is delivered again.
 */
export function serve(
  broker: Broker,
  port: Port,
  cell: Int32Array | undefined,
): (error: Error) => void {
  let waiting = 0; // puts not yet in the queue (a bounded queue is full)
  let syncs: number[] = [];
  let open = true;
  // Puts accepted and not yet answered: one answer per turn, not one per
  // batch, and always before any other message, so that the client sees
  // them in order.
  let accepted = 0;
  let answering = false;
  const answer = () => {
    answering = false;
    if (accepted === 0 || !open) return;
    const n = accepted;
    accepted = 0;
    port.postMessage({ t: "accepted", n, z: broker.size });
  };
  const post = (message: OwnerMessage, transfer: Transferable[] = []) => {
    if (!open) return;
    if (accepted > 0) answer();
    port.postMessage(message, transfer);
  };
  const consumer: Consumer = {
    credit: 0,
    held: new Deque<Entry>(),
    acked: 0,
    deliver(entries) {
      const transfer: Transferable[] = [];
      post(
        { t: "items", b: pack(entries, transfer), z: broker.size },
        transfer,
      );
    },
  };
  // Bounded queues only: the client's put credit (see broker.ts).
  const producer: Producer = {
    outstanding: 0,
    grant(n) {
      post({ t: "room", n, z: broker.size });
    },
  };
  const bounded = broker.maxsize !== Infinity;
  const flushSyncs = () => {
    if (waiting > 0) return;
    for (const id of syncs) post({ t: "synced", id, z: broker.size });
    syncs = [];
  };
  const close = (death?: Death) => {
    if (!open) return;
    open = false;
    serving.delete(shut);
    broker.remove(consumer, death);
    if (bounded) broker.spare(producer, Infinity);
    unlisten();
    port.close();
  };
  broker.add(consumer);
  const unlisten = runtime.listenPort(port, (data) => {
    const message = data as ClientMessage;
    switch (message.t) {
      case "put": {
        writeReceived(cell);
        waiting++;
        const done = () => {
          waiting--;
          accepted++;
          if (!answering) {
            answering = true;
            soon(answer);
          }
          flushSyncs();
        };
        const entries = unpack(message.b);
        const now = bounded
          ? broker.putCredited(entries, producer, done)
          : broker.put(entries, done);
        if (now) done();
        break;
      }
      case "want":
        if (bounded) broker.want(producer);
        break;
      case "spare":
        if (bounded) broker.spare(producer, message.n);
        break;
      case "pull":
        broker.ack(consumer, message.a);
        broker.credit(consumer, message.n);
        break;
      case "sync":
        syncs.push(message.id);
        flushSyncs();
        break;
      case "attach":
        serve(broker, message.port, message.cell);
        break;
      case "producer":
        broker.openProducer();
        break;
      case "seal":
        broker.seal();
        break;
      case "release":
        broker.ack(consumer, message.a);
        post({ t: "released", z: broker.size });
        close();
        break;
    }
  });
  const died = (error: Error) =>
    close({
      error,
      progress: readProgress(cell),
      culprit: (error as { culprit?: boolean }).culprit === true,
    });
  const shut = () => {
    post({ t: "gone", z: 0 });
    close();
  };
  serving.add(shut);
  // Where the runtime says that the other end's thread is gone (Node, Bun).
  // The handle of the worker that held it says the same with the cause, just
  // after the thread stopped: give it a moment to be first.
  port.addEventListener("close", () => {
    setTimeout(() => {
      died(
        new Error(
          `A thread holding items of queue "${broker.name}" ended without handing them back`,
        ),
      );
    }, CLOSE_GRACE_MS);
  });
  // The owner only answers; the clients' own waits keep their threads alive.
  port.unref?.();
  return died;
}

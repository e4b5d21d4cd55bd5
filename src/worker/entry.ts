/**
 * The module every workq worker starts from: it waits for the start message,
 * loads the task, runs it, hands back its queues, and reports the outcome.
 * @module
 */
import { errorToData } from "../errors.ts";
import { clientTransports, flushBeforeExit } from "../queue/threads/client.ts";
import { shutOwnedQueues } from "../queue/threads/serve.ts";
import { adoptThreadId } from "../queue/threads/owner.ts";
import { runtime } from "../runtime/mod.ts";
import { takeTransfer } from "../transfer.ts";
import { explain, load } from "./load.ts";
import { cloneError, decode, encode } from "../wire.ts";
// Registers how a queue is revived from its descriptor: arguments and queue
// items hold queues whatever the task imports.
import "../queue/queue.ts";
import type { StartMessage, WorkerMessage } from "./protocol.ts";

const scope = runtime.workerScope();
const post = (message: WorkerMessage, transfer: Transferable[] = []) =>
  scope.parent.post(message, transfer);

scope.onUncaught((error) => post({ t: "fatal", error: errorToData(error) }));
// A thread that ends itself must not take resolved puts with it.
const EXIT_FLUSH_BOUND_MS = 2000;
scope.onSelfExit((code) => {
  flushBeforeExit(EXIT_FLUSH_BOUND_MS);
  post({ t: "exit", code });
});

// Puts reach their queues and read items are settled before the parent hears
// that the task ended: the parent may end a queue right after.
async function handBack(): Promise<void> {
  const transports = [...clientTransports()];
  await Promise.all(transports.map((t) => t.settle()));
  await Promise.all(transports.map((t) => t.release()));
}

async function start(message: StartMessage): Promise<void> {
  const { task } = message;
  adoptThreadId(message.thread);
  try {
    const fn = await load(task).finally(() => scope.loaded());
    const args = message.wired
      ? decode(message.args) as unknown[]
      : message.args;
    const value = await fn(...args);
    await handBack();
    const transfer = takeTransfer(value);
    const encoded = encode(value, transfer);
    try {
      post({ t: "done", value: encoded.value, wired: encoded.wired }, transfer);
    } catch (error) {
      throw cloneError(`return from task "${message.name}"`, value, error);
    }
  } catch (error) {
    await handBack().catch(() => {});
    post({ t: "error", error: errorToData(explain(error, task)) });
  }
  // Last: the result may carry a queue this thread owns; it is gone now.
  shutOwnedQueues();
  scope.done();
}

scope.parent.listen((data) => {
  const message = data as StartMessage;
  if (message.t === "start") void start(message);
});

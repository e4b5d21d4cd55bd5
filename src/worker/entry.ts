/**
 * The module every workq worker starts from: it waits for the start message,
 * loads the task, runs it, hands back its queues, and reports the outcome.
 * @module
 */
import * as workq from "../../mod.ts";
import { errorToData } from "../errors.ts";
import { clientTransports } from "../queue/remote.ts";
import { shutOwnedQueues } from "../queue/owner.ts";
import { runtime } from "../runtime/mod.ts";
import type { TaskSpec } from "../task.ts";
import { takeTransfer } from "../transfer.ts";
import { cloneError, decode, encode } from "../wire.ts";
import type { StartMessage, WorkerMessage } from "./protocol.ts";

type TaskFunction = (...args: unknown[]) => unknown;

const scope = runtime.workerScope();
const post = (message: WorkerMessage, transfer: Transferable[] = []) =>
  scope.parent.post(message, transfer);

scope.onUncaught((error) => post({ t: "fatal", error: errorToData(error) }));
scope.onSelfExit((code) => post({ t: "exit", code }));

const HINT =
  "A function task runs from its source alone: it sees its parameters, globals and workq's exports, " +
  "not the names of the module that wrote it. Export the function and run it with task(url, name).";

async function load(spec: TaskSpec): Promise<TaskFunction> {
  if (spec.kind === "module") {
    const mod = await import(spec.module);
    const fn = mod[spec.export];
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot run task: module ${spec.module} has no exported function "${spec.export}"`,
      );
    }
    return fn;
  }
  const names = Object.keys(workq);
  let fn: unknown;
  try {
    fn = new Function(...names, `"use strict";\nreturn (${spec.source});`)(
      ...names.map((n) => (workq as never)[n]),
    );
  } catch (error) {
    throw new SyntaxError(
      `Cannot run task "${spec.name}": its source is not a function expression (${
        (error as Error).message
      }). ` +
        "Write it as an arrow function or function expression, or use task(url, name).",
    );
  }
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot run task "${spec.name}": its source is not a function`,
    );
  }
  return fn as TaskFunction;
}

// Puts reach their queues and read items are settled before the parent hears
// that the task ended: the parent may end a queue right after.
async function handBack(): Promise<void> {
  const transports = [...clientTransports()];
  await Promise.all(transports.map((t) => t.settle()));
  await Promise.all(transports.map((t) => t.release()));
}

async function start(message: StartMessage): Promise<void> {
  const { task } = message;
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
    if (task.kind === "source" && error instanceof ReferenceError) {
      error.message += `. ${HINT}`;
    }
    post({ t: "error", error: errorToData(error) });
  }
  // Last: the result may carry a queue this thread owns; it is gone now.
  shutOwnedQueues();
  scope.done();
}

scope.parent.listen((data) => {
  const message = data as StartMessage;
  if (message.t === "start") void start(message);
});

/**
 * The worker side of `Pool`: a warm worker that runs one task after another
 * from its own inbox.
 * @module
 */
import { dataToError, errorToData } from "../errors.ts";
import { iterMsg } from "../queue/iter.ts";
import type { Queue } from "../queue/queue.ts";
import type { TaskFunction, TaskSpec } from "../task.ts";
import { takeTransfer } from "../transfer.ts";
import { cloneError } from "../wire.ts";
import { explain, load } from "./load.ts";
import type { PoolJob, PoolOutcome } from "./protocol.ts";
import { setTaskContext } from "./task_signal.ts";

/**
 * A pool worker: says it is up on `outbox`, then runs each task read from
 * `inbox` (the pool gives it one at a time) and puts its outcome on
 * `outbox` (after the task's progress values, on the same queue so that
 * they come first), while still reading `inbox` for a cancel of the running
 * task.
 * Ends when `inbox` ends, once the running task is over.
 */
export async function poolWorker(
  inbox: Queue<PoolJob>,
  outbox: Queue<PoolOutcome>,
  worker: number,
  up?: Int32Array,
): Promise<number> {
  const loaded = new Map<string, Promise<TaskFunction>>();
  const fnOf = (spec: TaskSpec) => {
    const key = spec.kind === "module"
      ? `${spec.module}#${spec.export}`
      : spec.source;
    let fn = loaded.get(key);
    if (!fn) {
      fn = load(spec);
      loaded.set(key, fn);
      // A module that failed to load may load later (it was being written).
      fn.catch(() => loaded.delete(key));
    }
    return fn;
  };
  let running: { id: number; controller: AbortController } | undefined;
  let last: Promise<void> = Promise.resolve();
  let ran = 0;
  if (up) Atomics.store(up, 0, 1); // no failed start (src/shapes/workers.ts)
  await outbox.put([-1, true, worker]);
  for await (const msg of iterMsg(inbox)) {
    const [id, what, detail, each] = msg.data;
    if (what === "cancel") {
      if (running?.id === id) running.controller.abort(dataToError(detail));
      continue;
    }
    const spec = what;
    const args = detail;
    const controller = new AbortController();
    running = { id, controller };
    ran++;
    // Not awaited here: the loop goes on reading, for a cancel of this task.
    last = (async () => {
      // A progress value that cannot be sent fails the task: the put's
      // rejection is not the task's to catch (taskProgress does not wait).
      let unsent: unknown;
      setTaskContext({
        signal: controller.signal,
        progress(value) {
          if (running?.id !== id) return;
          outbox.put([id, "progress", value]).catch((error) => {
            unsent ??= new TypeError(
              `Cannot send taskProgress(value): ${(error as Error).message}`,
              { cause: error },
            );
          });
        },
      });
      let outcome: PoolOutcome;
      let transfer: Transferable[] = [];
      try {
        const fn = await fnOf(spec);
        let value: unknown;
        if (each) {
          // A chunk of pool.map: one call per input, in order.
          const values: unknown[] = [];
          for (const item of args) values.push(await fn(item));
          value = values;
        } else {
          value = await fn(...args);
        }
        if (unsent !== undefined) throw unsent;
        transfer = takeTransfer(value);
        outcome = [id, true, value];
      } catch (error) {
        outcome = [id, false, errorToData(explain(error, spec))];
      }
      setTaskContext(undefined);
      running = undefined;
      try {
        await outbox.put(outcome, { transfer });
      } catch (error) {
        // Name the task's result, not the pool's outcome queue.
        const failure = outcome[1] === true
          ? cloneError("return the pool task's result", outcome[2], error)
          : error;
        await outbox.put([id, false, errorToData(failure)]);
      }
    })();
  }
  await last;
  return ran;
}

/**
 * The worker side of `Pool`: a warm worker that runs the tasks its pool
 * sends over its own channel, one after another (or up to `concurrency`
 * async ones at once), and sends their outcomes back in one message per
 * turn.
 * @module
 */
import { dataToError, errorToData } from "../errors.ts";
import { runtime } from "../runtime/mod.ts";
import type { TaskFunction, TaskSpec } from "../task.ts";
import { takeTransfer } from "../transfer.ts";
import { cloneError } from "../wire.ts";
import { explain, load } from "./load.ts";
import {
  POOL_LAST,
  POOL_UP,
  type PoolBatch,
  type PoolJob,
  type PoolOutcome,
} from "./protocol.ts";
import { setTaskContext, type TaskContext } from "./task_signal.ts";

type Order = [id: number, spec: number, args: unknown[], each: 0 | 1];

interface Running {
  id: number;
  spec: TaskSpec;
  started: number;
  controller?: AbortController;
  context: TaskContext;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

// A chunk of pool.map: one call per input, in order; synchronous while the
// calls are, so that a chunk of sync calls costs no promise per input.
function runEach(fn: TaskFunction, items: unknown[]): unknown {
  const values: unknown[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const value = fn(items[i]);
    if (isThenable(value)) {
      return (async () => {
        values[i] = await value;
        for (let j = i + 1; j < items.length; j++) {
          values[j] = await fn(items[j]);
        }
        return values;
      })();
    }
    values[i] = value;
  }
  return values;
}

/**
 * A pool worker: says it is up on `port`, then runs the tasks that come on
 * it in order, up to `concurrency` at once (a task holds its place until
 * its promise settles), and sends each outcome back after the task's
 * progress values. Outcomes of one turn go in one message; a thread that
 * ends itself sends what it has first, so that the pool knows which task
 * was running. Ends on `"end"`, once what it was given is over.
 */
export function poolWorker(
  port: MessagePort,
  concurrency: number,
  up?: Int32Array,
): Promise<number> {
  const specs = new Map<number, TaskSpec>();
  const fns = new Map<number, TaskFunction>();
  const loading = new Map<number, Promise<TaskFunction>>();
  const running = new Map<number, Running>();
  // Cancels of tasks given but not started: they never start.
  const cancelled = new Map<number, unknown>();
  // Tasks whose module is loading.
  const held = new Set<number>();
  let queue: Order[] = [];
  let head = 0;
  let active = 0;
  let ran = 0;
  let ending = false;
  let pumping = false;
  // Outcomes of this turn, flat (see PoolBatch), and what each moves.
  let out: PoolBatch = [];
  let moves: (Transferable[] | undefined)[] = [];
  const report = (
    id: number,
    ok: boolean | "progress",
    value: unknown,
    ms = -1,
    moved?: Transferable[],
  ) => {
    if (moved && moved.length > 0) moves[out.length >> 2] = moved;
    out.push(id, ok, value, ms);
  };
  let flushQueued = false;
  let finish: (ran: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finish = resolve));

  // One message for the turn; if something in it cannot be sent, each
  // outcome alone, and the one refused fails its task, naming what.
  const flush = () => {
    flushQueued = false;
    if (out.length === 0) return;
    const batch = out;
    const batchMoves = moves;
    out = [];
    moves = [];
    const all: Transferable[] = [];
    for (const list of batchMoves) if (list) all.push(...list);
    try {
      port.postMessage(batch, all);
      return;
    } catch {
      // Sent one by one below.
    }
    const unsent = new Map<number, unknown>();
    for (let i = 0; i < batch.length; i += 4) {
      let outcome = batch.slice(i, i + 4) as PoolOutcome;
      const [id, ok, value, ms] = outcome;
      if (ok === true && unsent.has(id)) {
        outcome = [id, false, errorToData(unsent.get(id)), ms];
      }
      try {
        port.postMessage(outcome, batchMoves[i >> 2] ?? []);
      } catch (error) {
        if (ok === "progress") {
          unsent.set(
            id,
            new TypeError(
              `Cannot send taskProgress(value): ${(error as Error).message}`,
              { cause: error },
            ),
          );
          continue;
        }
        // Name the task's result, not the pool's channel.
        const failure = cloneError(
          "return the pool task's result",
          value,
          error,
        );
        port.postMessage([id, false, errorToData(failure), ms]);
      }
    }
  };
  const later = () => {
    if (flushQueued) return;
    flushQueued = true;
    queueMicrotask(flush);
  };

  const fnOf = (n: number): Promise<TaskFunction> => {
    let fn = loading.get(n);
    if (!fn) {
      fn = load(specs.get(n)!);
      loading.set(n, fn);
      fn.then((f) => fns.set(n, f), () => loading.delete(n));
    }
    return fn;
  };

  const end = (task: Running, ok: boolean, value: unknown) => {
    running.delete(task.id);
    active--;
    const ms = performance.now() - task.started;
    if (ok) report(task.id, true, value, ms, takeTransfer(value));
    else report(task.id, false, errorToData(explain(value, task.spec)), ms);
    if (!pumping) {
      later();
      pump();
    }
  };

  const begin = (order: Order, fn: TaskFunction) => {
    const [id, n, args, each] = order;
    ran++;
    active++;
    const task: Running = {
      id,
      spec: specs.get(n)!,
      started: performance.now(),
      context: {
        // Made when first asked for: most tasks never look.
        get signal() {
          return (task.controller ??= new AbortController()).signal;
        },
        progress(value) {
          if (!running.has(id)) return;
          report(id, "progress", value);
          later();
        },
      },
    };
    running.set(id, task);
    setTaskContext(task.context);
    let value: unknown;
    try {
      value = each ? runEach(fn, args) : fn(...args);
    } catch (error) {
      setTaskContext(undefined);
      return end(task, false, error);
    }
    if (!isThenable(value)) {
      setTaskContext(undefined);
      return end(task, true, value);
    }
    // One task at a time keeps its context while it awaits; several at
    // once cannot tell whose turn it is, so only their synchronous start
    // has one.
    if (concurrency > 1) setTaskContext(undefined);
    value.then(
      (v) => {
        if (concurrency === 1) setTaskContext(undefined);
        end(task, true, v);
      },
      (e) => {
        if (concurrency === 1) setTaskContext(undefined);
        end(task, false, e);
      },
    );
  };

  // A task cancelled before it started is reported as cancelled, not run.
  const skipped = (id: number) => {
    if (!cancelled.has(id)) return false;
    report(id, false, errorToData(cancelled.get(id)));
    cancelled.delete(id);
    return true;
  };

  const start = (order: Order) => {
    const [id, n] = order;
    if (skipped(id)) return;
    const fn = fns.get(n);
    if (fn) return begin(order, fn);
    // It holds its place while its module loads.
    active++;
    held.add(id);
    fnOf(n).then(
      (fn) => {
        active--;
        held.delete(id);
        if (!skipped(id)) begin(order, fn);
        later();
        pump();
      },
      (error) => {
        active--;
        held.delete(id);
        cancelled.delete(id);
        ran++;
        report(id, false, errorToData(explain(error, specs.get(n)!)));
        later();
        pump();
      },
    );
  };

  const pump = () => {
    if (pumping) return;
    pumping = true;
    while (active < concurrency && head < queue.length) start(queue[head++]);
    pumping = false;
    if (head === queue.length && head > 0) {
      queue = [];
      head = 0;
    }
    if (ending && active === 0 && head === queue.length) {
      flush();
      stop();
      finish(ran);
    }
  };

  const unlisten = runtime.listenPort(port, (data) => {
    if (data === "end") {
      ending = true;
      return pump();
    }
    const batch = data as PoolBatch;
    for (let i = 0; i < batch.length; i += 4) {
      const id = batch[i] as number;
      const what = batch[i + 1] as PoolJob[1];
      if (what === "spec") specs.set(id, batch[i + 2] as TaskSpec);
      else if (what === "cancel") {
        const reason = dataToError(batch[i + 2] as never);
        const task = running.get(id);
        if (task) (task.controller ??= new AbortController()).abort(reason);
        else if (
          held.has(id) || queue.some((o, at) => at >= head && o[0] === id)
        ) {
          cancelled.set(id, reason);
        }
      } else {
        queue.push([id, what, batch[i + 2] as unknown[], batch[i + 3] as 0]);
      }
    }
    pump();
    flush();
  });
  const stop = () => {
    unlisten();
    port.close();
  };
  // A task that ends its thread: what ran before it is reported first, then
  // that nothing else will come (the pool waits for it before blaming).
  runtime.workerScope().onSelfExit(() => {
    report(POOL_LAST, true, 0);
    flush();
  });

  if (up) Atomics.store(up, 0, 1); // no failed start (src/shapes/workers.ts)
  report(POOL_UP, true, 0);
  flush();
  return done;
}

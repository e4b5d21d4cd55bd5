// Bad input: every public function rejects wrong types with a TypeError and
// out-of-range values with a RangeError, naming the argument and the value.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  endq,
  endqAndWait,
  iterMsg,
  iterSortq,
  Msg,
  Queue,
  run,
  task,
  transfer,
} from "../mod.ts";
import { here } from "./_helpers.ts";

const tasks = here("./fixtures/tasks.ts");

function throwsWith(
  fn: () => unknown,
  type: typeof TypeError | typeof RangeError,
  ...parts: RegExp[]
) {
  assert.throws(fn, (error: Error) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
    for (const part of parts) assert.match(error.message, part);
    return true;
  });
}

async function rejectsWith(
  p: Promise<unknown>,
  type: typeof TypeError | typeof RangeError,
  ...parts: RegExp[]
) {
  await assert.rejects(p, (error: Error) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
    for (const part of parts) assert.match(error.message, part);
    return true;
  });
}

test("new Queue(): options, name, maxsize, maxAttempts, onDeadLetter", () => {
  throwsWith(
    () => new Queue("jobs" as never),
    TypeError,
    /options must be an object/,
    /string "jobs"/,
  );
  throwsWith(
    () => new Queue({ name: 5 as never }),
    TypeError,
    /options\.name must be a string/,
    /number 5/,
  );
  throwsWith(
    () => new Queue({ maxsize: "5" as never }),
    TypeError,
    /options\.maxsize must be a number/,
    /string "5"/,
  );
  throwsWith(
    () => new Queue({ maxsize: -1 }),
    RangeError,
    /options\.maxsize must be at least 0/,
    /-1/,
  );
  throwsWith(
    () => new Queue({ maxsize: 1.5 }),
    RangeError,
    /options\.maxsize must be an integer/,
    /1\.5/,
  );
  throwsWith(
    () => new Queue({ maxAttempts: 0 }),
    RangeError,
    /options\.maxAttempts must be at least 1/,
  );
  throwsWith(
    () => new Queue({ onDeadLetter: 1 as never }),
    TypeError,
    /options\.onDeadLetter must be a function/,
  );
});

test("put(): options, transfer, kind, order", async () => {
  const q = new Queue({ name: "checked" });
  await rejectsWith(
    q.put(1, "x" as never),
    TypeError,
    /queue "checked"/,
    /options must be an object/,
  );
  await rejectsWith(
    q.put(1, { transfer: "x" as never }),
    TypeError,
    /options\.transfer must be an array/,
  );
  await rejectsWith(
    q.put(1, { kind: 5 as never }),
    TypeError,
    /options\.kind must be a string/,
    /number 5/,
  );
  await rejectsWith(
    q.put(1, { order: "1" as never }),
    TypeError,
    /options\.order must be a number/,
  );
  assert.equal(q.size, 0, "nothing was put");
});

test("get(): options, timeout, signal", async () => {
  const q = new Queue({ name: "checked" });
  await rejectsWith(
    q.get("x" as never),
    TypeError,
    /options must be an object/,
  );
  await rejectsWith(
    q.get({ timeout: -5 }),
    RangeError,
    /options\.timeout must be at least 0/,
    /-5/,
  );
  await rejectsWith(
    q.get({ timeout: "1" as never }),
    TypeError,
    /options\.timeout must be a number/,
  );
  await rejectsWith(
    q.get({ signal: {} as never }),
    TypeError,
    /options\.signal must be an AbortSignal/,
  );
});

test("new Msg(): init, kind, order", () => {
  throwsWith(
    () => new Msg(5 as never),
    TypeError,
    /init must be an object/,
    /number 5/,
  );
  throwsWith(
    () => new Msg({ kind: 1 as never }),
    TypeError,
    /init\.kind must be a string/,
  );
  throwsWith(
    () => new Msg({ order: "2" as never }),
    TypeError,
    /init\.order must be a number/,
  );
});

test("iterMsg(), iterSortq(), endq(), endqAndWait(): the queue and the workers", async () => {
  throwsWith(
    () => iterMsg({} as never),
    TypeError,
    /q must be a Queue/,
    /object/,
  );
  await rejectsWith(
    iterSortq([] as never).next(),
    TypeError,
    /q must be a Queue/,
    /array/,
  );
  await rejectsWith(
    iterSortq(new Queue(), 0.5).next(),
    TypeError,
    /start 0\.5/,
  );
  await rejectsWith(
    endq(null as never),
    TypeError,
    /q must be a Queue/,
    /null/,
  );
  await rejectsWith(
    endqAndWait("q" as never, []),
    TypeError,
    /q must be a Queue/,
  );
  await rejectsWith(
    endqAndWait(new Queue(), [7 as never]),
    TypeError,
    /workers\[0\] must be a handle/,
    /number 7/,
  );
});

test("run(), task(), transfer(): the task, its options, the buffers", () => {
  throwsWith(
    () => run(42 as never as () => void),
    TypeError,
    /expected a function or task/,
    /number 42/,
  );
  throwsWith(
    () => task("./tasks.ts", "x"),
    TypeError,
    /absolute URL/,
    /\.\/tasks\.ts/,
  );
  throwsWith(
    () => task(tasks, 5 as never),
    TypeError,
    /name must be a non-empty string/,
    /number 5/,
  );
  throwsWith(
    () => task(tasks, "sum", { timeout: -1 }),
    RangeError,
    /options\.timeout must be at least 0/,
  );
  throwsWith(
    () => task(() => 1, { signal: "stop" as never }),
    TypeError,
    /options\.signal must be an AbortSignal/,
  );
  throwsWith(
    () => task(() => 1, { name: 3 as never }),
    TypeError,
    /options\.name must be a string/,
  );
  throwsWith(
    () => task(() => 1, { resourceLimits: { maxOldGenerationSizeMb: -1 } }),
    RangeError,
    /resourceLimits\.maxOldGenerationSizeMb/,
  );
  throwsWith(
    () => transfer(1 as never, []),
    TypeError,
    /value must be an object/,
    /number/,
  );
  throwsWith(
    () => transfer({}, "x" as never),
    TypeError,
    /list must be an array/,
  );
});

test("unknown options are a TypeError naming the option, with a near match when there is one", async () => {
  const { Feeder, feederSettings, imap, IterableQueue, map, ProcessQueue } =
    await import("../mod.ts");
  const fn = (x: number) => x;
  throwsWith(
    () => new Queue({ maxSize: 5 } as never),
    TypeError,
    /create a queue: options\.maxSize is not an option/,
    /did you mean options\.maxsize\?/,
  );
  throwsWith(
    () => new Queue({ color: "red" } as never),
    TypeError,
    /options\.color is not an option; the options are name, maxsize/,
  );
  const q = new Queue({ name: "checked" });
  await rejectsWith(
    q.put(1, { kinds: "x" } as never),
    TypeError,
    /options\.kinds is not an option \(did you mean options\.kind\?\)/,
  );
  await rejectsWith(
    q.get({ timeOut: 5 } as never),
    TypeError,
    /options\.timeOut is not an option \(did you mean options\.timeout\?\)/,
  );
  assert.equal(q.size, 0, "nothing was put");
  throwsWith(
    () => new Msg({ data: 1, ordr: 2 } as never),
    TypeError,
    /init\.ordr is not an option \(did you mean init\.order\?\)/,
  );
  throwsWith(
    () => task(fn, { timout: 5 } as never),
    TypeError,
    /options\.timout is not an option \(did you mean options\.timeout\?\)/,
  );
  throwsWith(
    () => task(tasks, "sum", { resourceLimits: { maxOldSpaceMb: 5 } } as never),
    TypeError,
    /options\.resourceLimits\.maxOldSpaceMb is not an option/,
  );
  await rejectsWith(
    map(fn, [1], { concurency: 2 } as never),
    TypeError,
    /options\.concurency is not an option \(did you mean options\.concurrency\?\)/,
  );
  await rejectsWith(
    imap(fn, [1], { raise_if_error: false } as never).next(),
    TypeError,
    /options\.raise_if_error is not an option \(did you mean options\.raiseIfError\?\)/,
  );
  throwsWith(
    () => new ProcessQueue(fn, { batch_size: 2 } as never),
    TypeError,
    /options\.batch_size is not an option \(did you mean options\.batchSize\?\)/,
  );
  throwsWith(
    () => new IterableQueue({ maxsize: 1, nam: "x" } as never),
    TypeError,
    /options\.nam is not an option \(did you mean options\.name\?\)/,
  );
  // The guide's old Feeder example: a setting beside the options.
  throwsWith(
    () =>
      new Feeder(
        "crawler",
        { writer: () => null, reader: fn, numWorkers: 2 } as never,
      ),
    TypeError,
    /create a feeder: options\.numWorkers is not an option \(did you mean options\.settings\.numWorkers\?\)/,
  );
  throwsWith(
    () =>
      new Feeder(
        "crawler",
        { writer: () => null, reader: fn, onResults: fn } as never,
      ),
    TypeError,
    /options\.onResults is not an option \(did you mean options\.onResult\?\)/,
  );
  throwsWith(
    () => feederSettings("crawler", { num_processes: 2 } as never),
    TypeError,
    /settings\.num_processes is not an option; the options are emptyQueueSleepTime/,
  );
  throwsWith(
    () => feederSettings("crawler", { num_workers: 2 } as never),
    TypeError,
    /settings\.num_workers is not an option \(did you mean settings\.numWorkers\?\)/,
  );
});

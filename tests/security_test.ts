// Least privilege and limits (issue #13): a Deno task narrowed to some
// permissions is denied the rest; options a runtime cannot honour are
// refused; what a worker inherits; a queue's maxItemBytes.
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { Queue, run, task } from "../mod.ts";
import { here, overHttp, runScript } from "./_helpers.ts";

const isDeno = "Deno" in globalThis;
const isBun = "Bun" in globalThis;
const runtimeName = isDeno ? "Deno" : isBun ? "Bun" : "Node";
const tasks = here("./fixtures/tasks.ts");
const NARROW_FLAGS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-run",
  "--allow-env",
  "--unstable-worker-options",
];

test(
  "a narrowed Deno task is denied what it was not given, with Deno's NotCapable; its timeout and signal stop a busy loop",
  {
    skip: !isDeno,
  },
  async () => {
    const out = await runScript(
      here("./fixtures/narrow_run.ts"),
      [],
      120_000,
      { denoFlags: NARROW_FLAGS },
    );
    assert.equal(out.code, 0, out.stderr);
    const seen = JSON.parse(out.stdout.trim().split("\n").pop()!);
    const denied = "NotCapable true";
    assert.match(seen.readAllowed, overHttp ? /^skipped$/ : /^ok \d+$/);
    assert.equal(seen.readDenied, denied);
    assert.match(seen.writeAllowed, /^ok .*a\.txt$/);
    assert.equal(seen.writeDenied, denied);
    assert.equal(seen.runDenied, denied);
    assert.equal(seen.netAllowed, "ok 200");
    assert.equal(seen.netDenied, denied);
    assert.equal(seen.envDenied, denied);
    assert.equal(seen.busyTimeout, "WorkerError timeout");
    assert.equal(seen.busyAbort, "WorkerError aborted");
    if (!overHttp) {
      assert.match(
        seen.importDenied,
        /^TypeError: Requires read access to ".*narrowed\.ts"/,
      );
    }
  },
);

test(
  "map() and ProcessQueue run a narrowed task on a narrowed worker (their driver is given the task's permissions)",
  {
    // Over http the task reads files by path, which the lane does not have.
    skip: !isDeno || (overHttp && "reads files of the tree by path"),
  },
  async () => {
    const out = await runScript(
      here("./fixtures/narrow_shapes.ts"),
      [],
      120_000,
      { denoFlags: NARROW_FLAGS },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout.trim().split("\n").at(-1)!), {
      mapped: ["ok true", "NotCapable true"],
      queued: ["NotCapable true"],
    });
  },
);

test(
  "without --unstable-worker-options Deno itself refuses a narrowed task, naming the flag",
  {
    skip: !isDeno,
  },
  async () => {
    const out = await runScript(
      here("./fixtures/narrow_run.ts"),
      [],
      60_000,
      { denoFlags: NARROW_FLAGS.slice(0, -1) },
    );
    assert.equal(out.code, 70);
    assert.match(out.stderr, /--unstable-worker-options/);
    assert.match(out.stderr, /Worker\.deno\.permissions/);
  },
);

test("a misspelt Deno option is refused with the right name", () => {
  assert.throws(
    () =>
      task(tasks, "sum", { deno: { permisions: { read: false } } } as never),
    (error: Error) =>
      error instanceof TypeError &&
      /options\.deno\.permisions is not an option \(did you mean options\.deno\.permissions\?\)/
        .test(error.message),
  );
  assert.throws(
    () =>
      task(tasks, "sum", { deno: { permissions: { reed: false } } } as never),
    /options\.deno\.permissions\.reed is not an option \(did you mean options\.deno\.permissions\.read\?\)/,
  );
  assert.throws(
    () => task(tasks, "sum", { deno: { permissions: "all" } } as never),
    /options\.deno\.permissions must be "inherit", "none" or an object/,
  );
  assert.throws(
    () => task(tasks, "sum", { deno: { permissions: { read: 1 } } } as never),
    /options\.deno\.permissions\.read must be true, false, "inherit" or an array/,
  );
});

test(
  "deno.permissions on Bun and Node is refused, naming the option and the runtime",
  {
    skip: isDeno,
  },
  () => {
    for (const permissions of ["none", { read: false }] as const) {
      assert.throws(
        () => task(tasks, "sum", { deno: { permissions } }),
        (error: Error) =>
          error instanceof TypeError &&
          error.message.includes("options.deno.permissions") &&
          error.message.includes(`not on ${runtimeName}`),
      );
      assert.throws(
        () => task(() => 1, { deno: { permissions } }),
        /options\.deno\.permissions works only on Deno/,
      );
    }
  },
);

test("resourceLimits are refused where the runtime does not honour them (Deno, Bun)", () => {
  const limited = () =>
    task(tasks, "sum", { resourceLimits: { maxOldGenerationSizeMb: 32 } });
  if (isDeno || isBun) {
    assert.throws(
      limited,
      (error: Error) =>
        error instanceof TypeError &&
        error.message.includes(
          `options.resourceLimits is not honoured on ${runtimeName}`,
        ),
    );
  } else {
    assert.equal(limited().options.resourceLimits?.maxOldGenerationSizeMb, 32);
  }
});

test("a worker inherits the environment, cwd and (on Deno) Deno.args and permissions", async () => {
  process.env.WORKQ_PROBE = "parent";
  try {
    const out = await runScript(
      here("./fixtures/inherit.ts"),
      ["arg1"],
      60_000,
      {
        denoFlags: ["--allow-read", "--allow-env"],
      },
    );
    assert.equal(out.code, 0, out.stderr);
    const { parent, worker, back } = JSON.parse(out.stdout.trim());
    assert.equal(worker.env, "parent");
    assert.equal(worker.cwd, parent.cwd);
    if (isDeno) {
      // One environment for the process: a worker's change reaches the parent.
      assert.deepEqual(worker.args, ["arg1"]);
      assert.equal(back, "worker");
      assert.equal(worker.read, "granted");
      assert.equal(worker.write, "prompt");
    } else {
      // A copy at spawn; argv after the script is not given to workers.
      assert.deepEqual(parent.args, ["arg1"]);
      assert.deepEqual(worker.args, []);
      assert.equal(back, undefined);
    }
  } finally {
    delete process.env.WORKQ_PROBE;
  }
});

test("a narrowed Deno worker (permissions: inherit) inherits the same", {
  skip: !isDeno,
}, async () => {
  process.env.WORKQ_PROBE = "parent";
  try {
    const out = await runScript(
      here("./fixtures/inherit.ts"),
      ["arg1", "narrowed"],
      60_000,
      {
        denoFlags: ["--allow-read", "--allow-env", "--unstable-worker-options"],
      },
    );
    assert.equal(out.code, 0, out.stderr);
    const { worker, back } = JSON.parse(out.stdout.trim());
    assert.equal(worker.env, "parent");
    assert.deepEqual(worker.args, ["arg1", "narrowed"]);
    assert.equal(back, "worker");
    assert.equal(worker.read, "granted");
  } finally {
    delete process.env.WORKQ_PROBE;
  }
});

test("maxItemBytes: a bigger put rejects naming its size and the limit; the queue goes on", async () => {
  const q = new Queue<unknown>({ name: "small", maxItemBytes: 100 });
  assert.equal(q.maxItemBytes, 100);
  const big = "x".repeat(51); // 102 bytes
  await assert.rejects(q.put(big), (error: Error) => {
    assert.ok(error instanceof RangeError);
    assert.match(
      error.message,
      /queue "small": the item is 102 bytes .* over the queue's maxItemBytes of 100/,
    );
    return true;
  });
  await assert.rejects(q.put(new Uint8Array(101)), /the item is 101 bytes/);
  await assert.rejects(
    q.put({ data: new ArrayBuffer(200) }),
    /the item is 208 bytes/,
  );
  await assert.rejects(q.putMany([1, big, 2]), RangeError);
  assert.equal(q.size, 0);
  await q.put("x".repeat(50));
  await q.put({ n: 1, list: [1, 2, 3] });
  assert.equal(q.size, 2);
  assert.equal((await q.get()).data, "x".repeat(50));
  assert.equal(new Queue().maxItemBytes, Infinity);
  await new Queue().put("x".repeat(1 << 20));
});

test("maxItemBytes is checked: a number of at least 1", () => {
  assert.throws(() => new Queue({ maxItemBytes: 0 }), RangeError);
  assert.throws(
    () => new Queue({ maxItemBytes: "1k" as never }),
    /options\.maxItemBytes must be a number/,
  );
  assert.throws(
    () => new Queue({ maxItemByte: 10 } as never),
    /did you mean options\.maxItemBytes/,
  );
});

test("maxItemBytes holds in a worker the queue is handed to", async () => {
  const q = new Queue<string>({ maxItemBytes: 64 });
  const seen = await run(async (q: Queue<string>) => {
    await q.put("ok");
    try {
      await q.put("y".repeat(100));
      return "accepted";
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  }, q);
  assert.match(seen, /^RangeError: .*200 bytes.*maxItemBytes of 64/);
  assert.equal((await q.get()).data, "ok");
  assert.equal(q.size, 0);
});

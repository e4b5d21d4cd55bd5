// Typed tasks: `task<typeof import(...), "name">` makes `run` and `map`
// check the arguments and the result against the export's signature. The
// `@ts-expect-error` lines are compile errors, proved by `deno check` and the
// tsc build of the static checks (an unused one is an error too); the tests
// below run the correct forms.
import assert from "node:assert/strict";
import { test } from "node:test";
import { imap, map, MapFailure, run, task, type WorkerHandle } from "../mod.ts";
import { here } from "./_helpers.ts";

type Tasks = typeof import("./fixtures/tasks.ts");
const tasks = here("./fixtures/tasks.ts");

/** (ms: number) => Promise<number> */
const sleepy = task<Tasks, "sleepy">(tasks, "sleepy");
/** (x: number) => number, throws for 3 */
const failOnThree = task<Tasks, "failOnThree">(tasks, "failOnThree");
/** (buffer: ArrayBuffer, value: number) => Uint8Array */
const fill = task<Tasks, "fill">(tasks, "fill");

/** Compile-time only: never called (each line would start a worker). */
export async function typeErrors(): Promise<void> {
  // @ts-expect-error: no export of that name
  task<Tasks, "noSuchTask">(tasks, "noSuchTask");
  // @ts-expect-error: the module's name and the type argument's differ
  task<Tasks, "sleepy">(tasks, "fill");

  // @ts-expect-error: a string where the export takes a number
  run(sleepy, "10");
  // @ts-expect-error: too few arguments
  run(sleepy);
  // @ts-expect-error: too many arguments
  run(sleepy, 1, 2);
  // @ts-expect-error: the second argument of fill is a number
  run(fill, new ArrayBuffer(1), "x");
  // @ts-expect-error: sleepy's result is a number, not a string
  const s: string = await run(sleepy, 1).result;
  // @ts-expect-error: the handle resolves to the result, a number
  const h: WorkerHandle<string> = run(sleepy, 1);

  // @ts-expect-error: strings where the task takes numbers
  await map(failOnThree, ["a", "b"]);
  // @ts-expect-error: map resolves to numbers
  const names: string[] = await map(failOnThree, [1, 2]);
  // @ts-expect-error: with raiseIfError: false a slot may be a MapFailure
  const only: number[] = await map(failOnThree, [1], { raiseIfError: false });
  // @ts-expect-error: imap yields numbers
  for await (const x of imap(failOnThree, [1])) x.toUpperCase();

  // A function task is checked the same way.
  // @ts-expect-error: a string where the function takes a number
  run((x: number) => x * 2, "21");

  void [s, h, names, only];
}

test("a typed module task runs with its argument and result types", async () => {
  const n: number = await run(sleepy, 1).result;
  assert.equal(n, 1);
  const bytes: Uint8Array = await run(fill, new ArrayBuffer(4), 7).result;
  assert.deepEqual([...bytes], [7, 7, 7, 7]);
});

test("map over a typed module task gives typed results", async () => {
  const results: number[] = await map(failOnThree, [1, 2], {
    concurrency: 1,
  });
  assert.deepEqual(results, [1, 2]);
  const mixed: (number | MapFailure)[] = await map(failOnThree, [2, 3], {
    concurrency: 1,
    raiseIfError: false,
  });
  assert.equal(mixed[0], 2);
  assert.ok(mixed[1] instanceof MapFailure);
  assert.equal(mixed[1].offset, 1);
});

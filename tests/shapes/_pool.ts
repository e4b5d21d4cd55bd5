// What the Pool tests share: the fixture tasks, a pool per test, a gate and
// a wait on the pool's counters.
import { test } from "node:test";
import { Pool, type PoolOptions, task } from "../../mod.ts";
import { here } from "../_helpers.ts";

const tasks = here("./fixtures/pool_tasks.ts");
type Tasks = typeof import("../fixtures/pool_tasks.ts");
export const whoami = task<Tasks, "whoami">(tasks, "whoami");
export const awaitCancel = task<Tasks, "awaitCancel">(tasks, "awaitCancel");
export const ignoreCancel = task<Tasks, "ignoreCancel">(tasks, "ignoreCancel");
export const echo = task<Tasks, "echo">(tasks, "echo");
export const blockUntil = task<Tasks, "blockUntil">(tasks, "blockUntil");
export const die = task<Tasks, "die">(tasks, "die");
export const fail = task<Tasks, "fail">(tasks, "fail");
export const flaky = task<Tasks, "flaky">(tasks, "flaky");
export const count = task<Tasks, "count">(tasks, "count");
export const spin = task<Tasks, "spin">(tasks, "spin");

/** A flag in shared memory that a task waits on until `open()`. */
export function gate(): { buffer: SharedArrayBuffer; open(): void } {
  const buffer = new SharedArrayBuffer(4);
  return {
    buffer,
    open() {
      Atomics.store(new Int32Array(buffer), 0, 1);
      Atomics.notify(new Int32Array(buffer), 0);
    },
  };
}

/**
 * A test with its own pool, destroyed after it, passed or failed (`await
 * using` would do, but Node 22 does not parse it).
 */
export function pooled(
  name: string,
  options: PoolOptions | undefined,
  body: (pool: Pool) => Promise<void>,
): void {
  test(name, async () => {
    const pool = new Pool(options);
    try {
      await body(pool);
    } finally {
      await pool.destroy();
    }
  });
}

/**
 * Resolves once `ready()` holds, checked as the pool's counters change
 * (each check is a turn of the event loop, not a timed wait).
 */
export async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 5));
}

// The work itself, shared by the main thread (single-thread baseline), workq's
// tasks and the peers' worker files, so that every contender runs the same code.

/** A deterministic busy loop of `n` rounds of xorshift32; returns the state. */
export function spin(n: number): number {
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}

/** A peer's job: a number is a tiny task (x -> x + 1), `{ spin }` a CPU-bound one. */
export function job(m: number | { spin: number }): number {
  return typeof m === "number" ? m + 1 : spin(m.spin);
}

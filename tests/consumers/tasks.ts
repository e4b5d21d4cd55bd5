// A consumer's task module: a typed export that run() loads in a worker.

/** Doubles a number. */
export function double(x: number): number {
  return x * 2;
}

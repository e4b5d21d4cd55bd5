// A consumer's task module in plain JavaScript.

/** Doubles a number. */
export function double(x) {
  return x * 2;
}

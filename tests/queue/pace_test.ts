// The prefetch window (src/queue/pace.ts). Pace reads performance.now()
// itself, so each test is chosen to hold at any machine speed: a target so
// large that any measured time is tiny beside it, or work that lasts until
// the clock has passed far beyond the target (waited for, not slept).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Pace } from "../../src/queue/pace.ts";

/** Keeps this thread busy until the clock has moved on by `ms`: the reader's own work. */
function work(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* busy, as a reader at work */ }
}

// Any item, however slow this machine, is tiny beside a day.
const DAY_MS = 24 * 3600_000;
// Work that lasts 2 ms is slow beside this, at any speed.
const TINY_TARGET_MS = 0.001;

test("pace: the window starts at its initial size, before the reader's pace is known", () => {
  const pace = new Pace(DAY_MS, 64, 1);
  assert.equal(pace.window, 1);
  pace.took(); // the first item: no time of its own yet
  assert.equal(pace.window, 1);
});

test("pace: for tiny tasks the window grows to the max, and no further", () => {
  const pace = new Pace(DAY_MS, 16, 1);
  pace.took();
  pace.took();
  assert.equal(pace.window, 16);
  for (let i = 0; i < 10; i++) pace.took(100);
  assert.equal(pace.window, 16);
});

test("pace: for slow tasks the window shrinks to 1", () => {
  const pace = new Pace(TINY_TARGET_MS, 16, 16);
  pace.took();
  work(2);
  pace.took();
  assert.equal(pace.window, 1);
});

test("pace: a reader's own work before it waits counts", () => {
  const pace = new Pace(TINY_TARGET_MS, 16, 16);
  pace.starts();
  work(2);
  pace.waits();
  assert.equal(pace.window, 1);
});

test("pace: time spent waiting is not counted as the reader's work", () => {
  const pace = new Pace(TINY_TARGET_MS, 16, 16);
  pace.waits();
  work(2); // as long as the slow work above, but spent waiting for an item
  pace.took();
  assert.equal(pace.window, 16);
});

test("pace: an item reaching a waiting reader starts its own time again", () => {
  const pace = new Pace(TINY_TARGET_MS, 16, 16);
  pace.waits();
  work(2); // waiting
  pace.starts();
  work(2); // its own work on the item that came
  pace.took();
  assert.equal(pace.window, 1);
});

test("pace: once a reader waits, the wait is not added to its last work", () => {
  // No cap, so that the window follows the learnt time closely: any time
  // learnt from the wait would move it.
  const pace = new Pace(DAY_MS, Number.MAX_SAFE_INTEGER, 1);
  pace.starts();
  pace.waits();
  const learnt = pace.window;
  work(2); // waiting
  pace.took();
  assert.equal(pace.window, learnt);
});

test("pace: took(n) counts the time since the last item as the work of n items", () => {
  // Two readers timed over the same 20 ms, one of them on 1000 items: its
  // time per item is a thousandth, so its window is far wider (the two
  // spans differ only by one call to took()).
  const one = new Pace(DAY_MS, Number.MAX_SAFE_INTEGER, 1);
  const many = new Pace(DAY_MS, Number.MAX_SAFE_INTEGER, 1);
  one.took();
  many.took();
  work(20);
  one.took(1);
  many.took(1000);
  assert.ok(
    many.window > 10 * one.window,
    `windows ${many.window} and ${one.window}`,
  );
});

// A consumer's program (Deno, Bun): the README's quick start, then a typed task.
import "./quick_start.ts";
import "./typed.ts";

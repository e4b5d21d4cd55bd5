// A consumer's program (Node): the README's quick start, then a module task.
import "./quick_start.mjs";
import "./typed.mjs";

/**
 * Hooks the ways a worker can end itself (`close()`, `Deno.exit()`,
 * `process.exit()`), which some runtimes never report and none lets finish
 * what was batched: the handler runs first, synchronously.
 * @module
 */

// deno-lint-ignore no-explicit-any
type Any = any;

/** Calls `handler(code)` just before this thread ends itself by any of its runtime's exits. */
export function hookSelfExit(handler: (code: number) => void): void {
  const self: Any = globalThis;
  let said = false;
  // One exit may call another (Deno's process.exit calls Deno.exit).
  const once = (code: number) => {
    if (said) return;
    said = true;
    handler(code);
  };
  const wrap = (owner: Any, key: string) => {
    const exit = owner?.[key];
    if (typeof exit !== "function") return;
    const bound = exit.bind(owner);
    try {
      owner[key] = (code?: number) => {
        once(typeof code === "number" ? code : 0);
        return bound(code);
      };
    } catch {
      // A frozen namespace: the parent then learns of the exit as before.
    }
  };
  wrap(self, "close");
  wrap(self.Deno, "exit");
  wrap(self.process, "exit");
}

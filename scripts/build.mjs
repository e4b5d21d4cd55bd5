// The form Node users get from JSR, and browsers load: the .js + .d.ts that
// tsc emits from the sources into dist/ (tsconfig.build.json). The test
// harness builds it before its lanes, the browser example before serving.
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./tools.mjs";

/**
 * Empties dist/ and emits it afresh with `tsc` (the pinned compiler's
 * path), marked as ES modules. Throws when tsc fails (its errors are
 * printed).
 */
export function emitDist(tsc) {
  rmSync(join(root, "dist"), { recursive: true, force: true });
  execFileSync(tsc, ["-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });
  writeFileSync(
    join(root, "dist", "package.json"),
    JSON.stringify({ type: "module" }),
  );
}

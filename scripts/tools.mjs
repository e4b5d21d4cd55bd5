// Installs the pinned runtimes and tools from the npm registry into .tools/
// (one folder each: two Node versions cannot share one), and says where they are.
// Needs only the machine's Node.js and npm.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tools = join(root, ".tools");

/** name -> [folder, packages, binary] */
const PINS = {
  deno: ["deno", ["deno@2.9.6"], "deno"],
  bun: ["bun", ["bun@1.4.5"], "bun"],
  node24: ["node24", ["node@24.21.0"], "node"],
  node22: ["node22", ["node@22.23.3"], "node"],
  tsc: ["ts", ["typescript@7.0.2", "@types/node@24.19.2"], "tsc"],
};

function install(folder, packages) {
  const dir = join(tools, folder);
  mkdirSync(dir, { recursive: true });
  const stamp = join(dir, ".pins");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === packages.join(" ")) {
    return dir;
  }
  writeFileSync(join(dir, "package.json"), JSON.stringify({ private: true }));
  process.stderr.write(
    `installing ${packages.join(", ")} into .tools/${folder}\n`,
  );
  execFileSync("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    ...packages,
  ], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
  });
  writeFileSync(stamp, packages.join(" "));
  return dir;
}

/** Installs what is missing; returns the path of each pinned binary. */
export function ensureTools(names = Object.keys(PINS)) {
  const out = {};
  for (const name of names) {
    const [folder, packages, bin] = PINS[name];
    const path = join(install(folder, packages), "node_modules", ".bin", bin);
    if (!existsSync(path)) {
      throw new Error(`installing ${packages} did not provide ${path}`);
    }
    out[name] = path;
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, path] of Object.entries(ensureTools())) {
    const version =
      execFileSync(path, ["--version"], { encoding: "utf8" }).split("\n")[0];
    console.log(`${name}: ${version}`);
  }
}

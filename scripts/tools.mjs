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

/**
 * Installs the harness's own npm dependencies (package.json: the Redis
 * client that Node and Bun resolve from node_modules, and the
 * devDependencies, such as the YAML parser of the static checks) when
 * missing.
 */
export function ensureDevDeps() {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const missing = Object.entries({
    ...pkg.dependencies,
    ...pkg.devDependencies,
  }).some(
    ([name, version]) => {
      const path = join(root, "node_modules", name, "package.json");
      return !existsSync(path) ||
        JSON.parse(readFileSync(path, "utf8")).version !== version;
    },
  );
  if (!missing) return;
  process.stderr.write("installing the harness's dependencies (npm install)\n");
  execFileSync("npm", [
    "install",
    "--include=dev",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
  ], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
}

function onPath(command) {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure `command` is on PATH: as root, installs Debian's `pkg`.
 * Returns whether it is there; `who` says which tests fail without it.
 */
function ensureDebian(command, pkg, who) {
  if (onPath(command)) return true;
  if (process.getuid?.() !== 0 || !onPath("apt-get")) {
    process.stderr.write(
      `${command} is missing and cannot be installed here (not root, or no apt-get): ${who} will fail\n`,
    );
    return false;
  }
  process.stderr.write(`installing ${pkg} (apt-get)\n`);
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const opts = { stdio: ["ignore", "inherit", "inherit"], env };
    execFileSync("apt-get", ["update", "-qq"], opts);
    execFileSync("apt-get", ["install", "-y", "-qq", pkg], opts);
  } catch (error) {
    process.stderr.write(
      `installing ${pkg} failed (${error.message}): ${who} will fail\n`,
    );
  }
  return onPath(command);
}

/** Makes sure redis-server (for tests/redis/) is on PATH. */
export function ensureRedisServer() {
  return ensureDebian("redis-server", "redis-server", "the Redis tests");
}

/**
 * The path of the first of `commands` on PATH, else, as root, of Debian's
 * `pkg` (whose command is its name) once installed; undefined when neither.
 */
function ensureBrowser(commands, pkg, who) {
  const found = commands.find(onPath) ??
    (ensureDebian(pkg, pkg, who) ? pkg : undefined);
  if (!found) return undefined;
  return execFileSync("sh", ["-c", `command -v ${found}`], {
    encoding: "utf8",
  }).trim();
}

/**
 * Makes sure a Chromium (for the browser lane, tests/browser/) is on PATH:
 * one already there (GitHub's runners have Google Chrome), else, as root,
 * Debian's package; puppeteer-core, a devDependency, drives it. Returns its
 * path, or undefined.
 */
export function ensureChromium() {
  return ensureBrowser(
    ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome"],
    "chromium",
    "the browser lane",
  );
}

/**
 * Makes sure a Firefox (for the "browser (firefox)" lane) is on PATH: one
 * already there, else, as root, Debian's `firefox-esr`. Returns its path, or
 * undefined.
 */
export function ensureFirefox() {
  return ensureBrowser(
    ["firefox-esr", "firefox"],
    "firefox-esr",
    "the firefox lane",
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, path] of Object.entries(ensureTools())) {
    const version =
      execFileSync(path, ["--version"], { encoding: "utf8" }).split("\n")[0];
    console.log(`${name}: ${version}`);
  }
}

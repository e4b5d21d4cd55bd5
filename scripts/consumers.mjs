// workq as its users get it: the npm package dir that JSR's npm compatibility
// would serve (built from tsc's output), and three scratch consumer projects
// (Deno with an import map, Node and Bun with the package installed from its
// tarball) that run the README's quick start and a typed module task.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { root } from "./tools.mjs";

const fixtures = join(root, "tests", "consumers");
const TIMEOUT_MS = 180_000;

/** The npm name JSR's npm compatibility gives a package: @scope/name -> @jsr/scope__name. */
export function npmName(jsrName) {
  const m = /^@([^/]+)\/([^/]+)$/.exec(jsrName);
  if (!m) throw new Error(`deno.json: name ${jsrName} is not @scope/name`);
  return `@jsr/${m[1]}__${m[2]}`;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

/**
 * Builds dist/npm/ from tsc's output in dist/: what JSR's npm compatibility
 * ships for deno.json's package (.js + .d.ts of the published sources,
 * README, LICENSE), with an exports map mirroring deno.json's exports and
 * the npm: imports as dependencies. Throws when something is missing.
 */
export function buildNpmPackage() {
  const deno = readJson(join(root, "deno.json"));
  const dist = join(root, "dist");
  const out = join(dist, "npm");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const emitted = (file) => [
    file.replace(/\.ts$/, ".js"),
    file.replace(/\.ts$/, ".d.ts"),
  ];
  for (const entry of deno.publish.include) {
    if (entry === "deno.json") continue; // replaced by package.json
    const tree = /^(.+)\/\*\*\/\*\.ts$/.exec(entry);
    if (tree) {
      cpSync(join(dist, tree[1]), join(out, tree[1]), {
        recursive: true,
        filter: (src) =>
          statSync(src).isDirectory() || src.endsWith(".js") ||
          src.endsWith(".d.ts"),
      });
    } else if (entry.endsWith(".ts")) {
      for (const file of emitted(entry)) {
        mkdirSync(dirname(join(out, file)), { recursive: true });
        copyFileSync(join(dist, file), join(out, file));
      }
    } else {
      copyFileSync(join(root, entry), join(out, entry));
    }
  }
  const exports = {};
  for (const [key, path] of Object.entries(deno.exports)) {
    const [js, dts] = emitted(path);
    for (const file of [js, dts]) {
      if (!existsSync(join(out, file))) {
        throw new Error(`dist/npm: export ${key} needs ${file}, not emitted`);
      }
    }
    exports[key] = { types: dts, default: js };
  }
  const dependencies = {};
  for (const spec of Object.values(deno.imports ?? {})) {
    const m = /^npm:(@?[^@]+)@(.+)$/.exec(spec);
    if (m) dependencies[m[1]] = m[2];
  }
  writeFileSync(
    join(out, "package.json"),
    JSON.stringify(
      {
        name: npmName(deno.name),
        version: deno.version,
        license: deno.license,
        type: "module",
        exports,
        dependencies,
      },
      null,
      2,
    ) + "\n",
  );
  return out;
}

/** The README's quick start: the first ```ts block after its heading. */
export function readmeQuickStart() {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const at = readme.indexOf("\n## Quick start");
  const m = at < 0 ? null : /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!m) throw new Error("README.md: no ```ts block under ## Quick start");
  return m[1];
}

function sh(command, args, cwd) {
  const r = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: TIMEOUT_MS,
    killSignal: "SIGKILL",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const output = `$ ${[command, ...args].join(" ")}  (in ${cwd})\n${
    r.stdout ?? ""
  }${r.stderr ?? ""}${
    r.error ? `${r.error.message}\n` : r.signal ? `killed by ${r.signal}\n` : ""
  }`;
  return { ok: r.status === 0, stdout: r.stdout ?? "", output };
}

function copyFixtures(dir, names) {
  mkdirSync(dir, { recursive: true });
  for (const name of names) {
    copyFileSync(join(fixtures, name), join(dir, name));
  }
}

const sortedLines = (text) =>
  text.split("\n").map((l) => l.trim()).filter(Boolean).sort();

/**
 * Runs the consumer projects; one test each (a runtime's run of a project,
 * or a check), printed as "ok"/"FAIL" with the output of a failure.
 * `bin` holds the pinned runtimes' paths (tools.mjs ensureTools()).
 */
export function runConsumers(bin) {
  console.log("\n=== consumers");
  let passed = 0;
  let failed = 0;
  const failing = [];
  const report = (name, ok, output = "") => {
    if (ok) passed++;
    else {
      failed++;
      failing.push(name);
    }
    console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : `\n${output}`}`);
  };
  const expect = (name, result, lines) => {
    const got = sortedLines(result.stdout);
    const want = [...lines].sort();
    const ok = result.ok && JSON.stringify(got) === JSON.stringify(want);
    report(
      name,
      ok,
      `${result.output}expected stdout lines: ${JSON.stringify(want)}\n`,
    );
  };

  const quickStart = readFileSync(join(fixtures, "quick_start.ts"), "utf8");
  report(
    "tests/consumers/quick_start.ts is the README's quick start",
    quickStart === readmeQuickStart(),
    "README.md's quick start and tests/consumers/quick_start.ts differ: copy the README's block into the fixture\n",
  );

  const tmp = mkdtempSync(join(tmpdir(), "workq-consumers-"));
  try {
    // Deno: the sources through an import map, no node_modules.
    const denoDir = join(tmp, "deno");
    copyFixtures(denoDir, [
      "main.ts",
      "quick_start.ts",
      "typed.ts",
      "tasks.ts",
    ]);
    writeFileSync(
      join(denoDir, "deno.json"),
      JSON.stringify({
        imports: { "@workq/workq": join(root, "mod.ts") },
        nodeModulesDir: "none",
      }),
    );
    expect(
      "deno project: deno run --check --allow-read main.ts",
      sh(bin.deno, ["run", "--check", "--allow-read", "main.ts"], denoDir),
      ["499500", "typed task: 42"],
    );

    // The npm package's tarball, as a registry would serve it.
    const pack = sh("npm", [
      "pack",
      join(root, "dist", "npm"),
      "--pack-destination",
      tmp,
      "--loglevel=error",
    ], tmp);
    const tgz = pack.stdout.trim().split("\n").pop();
    const tarball = pack.ok && tgz && existsSync(join(tmp, tgz))
      ? join(tmp, tgz)
      : null;
    const name = tarball &&
      readJson(join(root, "dist", "npm", "package.json")).name;
    const install = (dir, dependencies) => {
      writeFileSync(
        join(dir, "package.json"),
        JSON.stringify({ private: true, type: "module", dependencies }),
      );
      return sh("npm", [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        "--loglevel=error",
      ], dir);
    };

    // Node: plain .mjs importing the package by its npm name.
    const nodeDir = join(tmp, "node");
    copyFixtures(nodeDir, [
      "main.mjs",
      "quick_start.mjs",
      "typed.mjs",
      "tasks.mjs",
    ]);
    const nodeInstall = tarball
      ? install(nodeDir, { [name]: `file:${tarball}` })
      : pack;
    for (const runtime of ["node22", "node24"]) {
      expect(
        `node project on ${runtime}: node main.mjs`,
        nodeInstall.ok ? sh(bin[runtime], ["main.mjs"], nodeDir) : nodeInstall,
        ["499500", "typed task: 42", "entries: function true"],
      );
    }

    // Bun: the README's TypeScript as is, the package under the name
    // `bunx jsr add @workq/workq` gives it (an alias of the npm name).
    const bunDir = join(tmp, "bun");
    copyFixtures(bunDir, ["main.ts", "quick_start.ts", "typed.ts", "tasks.ts"]);
    const bunInstall = tarball
      ? install(bunDir, { "@workq/workq": `file:${tarball}` })
      : pack;
    expect(
      "bun project: bun main.ts",
      bunInstall.ok ? sh(bin.bun, ["main.ts"], bunDir) : bunInstall,
      ["499500", "typed task: 42"],
    );
    // Its types come from the package's .d.ts through the exports map.
    writeFileSync(
      join(bunDir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "esnext",
          module: "preserve",
          moduleResolution: "bundler",
          lib: ["esnext", "dom"],
          types: [],
          allowImportingTsExtensions: true,
          noEmit: true,
          strict: true,
          skipLibCheck: true,
        },
        include: ["*.ts"],
      }),
    );
    const tsc = bunInstall.ok ? sh(bin.tsc, ["-p", "."], bunDir) : bunInstall;
    report(
      "bun project: tsc --noEmit against the package's .d.ts",
      tsc.ok,
      tsc.output,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return {
    label: "consumers",
    code: failed ? 1 : 0,
    signal: null,
    passed,
    failed,
    failing,
  };
}

// The import graph of src/ (and the entry points mod.ts, redis.ts), drawn
// in layers: a module sits one layer above the highest module it imports,
// so every arrow points down. Exits 1 on a cycle (which has no layering).
//
//   node scripts/graph.mjs          (the layers, and each module's imports)
//   node scripts/graph.mjs --dot    (Graphviz dot, to render)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

// Static imports and re-exports, type-only ones included (they still say
// what a module is built on), and dynamic imports. A worker's entry module,
// started by URL in a new thread, is the root of that thread's own graph:
// it is listed as "starts", not as an import.
const SPEC =
  /(?:^|\n)\s*(?:import|export)\b[^"'`;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
const STARTS = /new URL\(\s*`(\.[^`]+?)\$\{ext\}`,\s*import\.meta\.url/g;

function importsOf(file, pattern = SPEC) {
  const text = readFileSync(file, "utf8");
  const out = new Set();
  for (const m of text.matchAll(pattern)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith(".")) continue;
    let target = resolve(dirname(file), spec);
    if (!target.endsWith(".ts")) target += ".ts";
    if (target !== file) out.add(target);
  }
  return [...out];
}

const files = [
  join(root, "mod.ts"),
  join(root, "redis.ts"),
  ...sources(join(root, "src")),
];
const edges = new Map(files.map((f) => [f, importsOf(f)]));
const name = (f) => relative(root, f).split("\\").join("/");

const layer = new Map();
const visiting = new Set();
function depth(file, path = []) {
  if (layer.has(file)) return layer.get(file);
  if (visiting.has(file)) {
    const cycle = [...path.slice(path.indexOf(file)), file].map(name);
    console.error(`import cycle: ${cycle.join(" -> ")}`);
    process.exit(1);
  }
  visiting.add(file);
  let d = 0;
  for (const dep of edges.get(file) ?? []) {
    if (!edges.has(dep)) continue; // outside src/ (e.g. a package)
    d = Math.max(d, depth(dep, [...path, file]) + 1);
  }
  visiting.delete(file);
  layer.set(file, d);
  return d;
}
for (const f of files) depth(f);

if (process.argv.includes("--dot")) {
  console.log("digraph workq {\n  rankdir=TB; node [shape=box];");
  for (const [f, deps] of edges) {
    for (const d of deps) {
      if (edges.has(d)) console.log(`  "${name(f)}" -> "${name(d)}";`);
    }
  }
  console.log("}");
} else {
  const top = Math.max(...layer.values());
  for (let d = top; d >= 0; d--) {
    const here = files.filter((f) => layer.get(f) === d).map(name).sort();
    console.log(`layer ${d}`);
    for (const f of here) {
      const deps = edges.get(join(root, f)).filter((x) => edges.has(x));
      console.log(
        `  ${f}${
          deps.length ? "  -> " + deps.map(name).sort().join(", ") : ""
        }`,
      );
    }
  }
  console.log("starts (a new thread, whose graph has that module on top)");
  for (const f of files) {
    for (const s of importsOf(f, STARTS)) {
      console.log(`  ${name(f)} => ${name(s)}`);
    }
  }
  console.log(
    `${files.length} modules, ${
      [...edges.values()].flat().filter((d) => edges.has(d)).length
    } imports, no cycle: every arrow points to a lower layer`,
  );
}

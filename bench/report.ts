// Shared by the benchmarks: medians, the runtime's label, the table and the JSON file.
import { runtime } from "../src/runtime/mod.ts";

/** One line of a benchmark table. */
export interface Row {
  what: string;
  unit: string;
  raw: number;
  raw2?: number;
  workq: number;
  better: "higher" | "lower";
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Which runtime and version this is. */
export function runtimeName(): string {
  const g = globalThis as {
    Deno?: { version: { deno: string } };
    Bun?: { version: string };
    process?: { version: string };
  };
  if (g.Deno) return `deno-${g.Deno.version.deno}`;
  if (g.Bun) return `bun-${g.Bun.version}`;
  return `node-${g.process?.version.replace(/^v/, "")}`;
}

/** The runtime, its worker family and the CPU count, for a table's caption. */
export function label(): string {
  return `${runtimeName()} (${runtime.family} workers, ${runtime.cpus} CPUs)`;
}

function fmt(n: number | undefined): string {
  if (n === undefined) return "";
  if (n >= 10_000) return `${(n / 1000).toFixed(0)}k`;
  if (n >= 100) return n.toFixed(0);
  return n.toPrecision(3);
}

/** Prints the rows as a markdown table and writes them as JSON. */
export async function report(
  name: string,
  rows: Row[],
  meta: { note: string },
): Promise<void> {
  const lines = [
    `### ${name}: ${runtimeName()}`,
    "",
    "| measure | unit | raw runtime | workq | workq / raw |",
    "|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const raw = r.raw2 === undefined
      ? fmt(r.raw)
      : `${fmt(r.raw)} / ${fmt(r.raw2)}`;
    const ratio = r.workq / (r.raw2 ?? r.raw);
    lines.push(
      `| ${r.what} | ${r.unit} | ${raw} | ${fmt(r.workq)} | ${
        ratio.toFixed(2)
      }x |`,
    );
  }
  lines.push("", meta.note);
  console.log(lines.join("\n"));
  try {
    const { mkdir, writeFile } = await import("node:fs/promises");
    const dir = new URL("./results/", import.meta.url);
    await mkdir(dir, { recursive: true });
    const file = new URL(`${name}-${runtimeName()}.json`, dir);
    await writeFile(
      file,
      JSON.stringify(
        {
          runtime: runtimeName(),
          date: new Date().toISOString(),
          rows,
          ...meta,
        },
        null,
        2,
      ),
    );
  } catch (error) {
    console.error(`(results not written: ${(error as Error).message})`);
  }
}

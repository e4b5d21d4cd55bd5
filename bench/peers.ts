// The worker pools workq is compared with: piscina, tinypool, workerpool and
// poolifier, pinned in bench/peers/package.json and installed (by
// scripts/bench.mjs) into bench/peers/node_modules, never a dependency of
// workq. They are loaded with require from that folder, behind a minimal
// typed interface, so that `deno check bench/` never reads their types and
// Deno needs no node_modules of its own.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** The peers, in the order of the tables. */
export const PEERS = [
  "piscina",
  "tinypool",
  "workerpool",
  "poolifier",
] as const;
/** One of {@link PEERS}. */
export type PeerName = typeof PEERS[number];

/** A job: a number is a tiny task (x -> x + 1), `{ spin }` a CPU-bound one. */
export type Job = number | { spin: number };

/** What the benchmark needs of a pool. */
export interface Pool {
  run(job: Job): Promise<number>;
  close(): Promise<void>;
}

const folder = new URL("./peers/", import.meta.url);
const require = createRequire(new URL("package.json", folder));
const file = (name: string) => fileURLToPath(new URL(name, folder));

/** Whether the peers are installed (scripts/bench.mjs installs them). */
export function peersInstalled(): boolean {
  return PEERS.every((p) => existsSync(new URL(`node_modules/${p}/`, folder)));
}

/** The exact version of a peer, from its package.json. */
export function peerVersion(name: PeerName): string {
  const file = new URL(`node_modules/${name}/package.json`, folder);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string })
    .version;
}

interface RunClose {
  run(job: Job): Promise<number>;
  destroy(): Promise<void>;
}

/** Loads a peer (the `require` is part of a cold start) and makes a pool of `n` threads. */
export function makePool(name: PeerName, n: number): Pool {
  switch (name) {
    case "piscina": {
      const { Piscina } = require("piscina") as {
        Piscina: new (o: Record<string, unknown>) => RunClose;
      };
      const pool = new Piscina({
        filename: file("fn_worker.ts"),
        minThreads: n,
        maxThreads: n,
      });
      return { run: (j) => pool.run(j), close: () => pool.destroy() };
    }
    case "tinypool": {
      const { Tinypool } = require("tinypool") as {
        Tinypool: new (o: Record<string, unknown>) => RunClose;
      };
      const pool = new Tinypool({
        filename: file("fn_worker.ts"),
        minThreads: n,
        maxThreads: n,
      });
      return { run: (j) => pool.run(j), close: () => pool.destroy() };
    }
    case "workerpool": {
      const workerpool = require("workerpool") as {
        pool(script: string, o: Record<string, unknown>): {
          exec(method: string, params: unknown[]): Promise<number>;
          terminate(): Promise<void>;
        };
      };
      const pool = workerpool.pool(file("workerpool_worker.ts"), {
        minWorkers: n,
        maxWorkers: n,
        workerType: "thread",
      });
      return {
        run: (j) => pool.exec("job", [j]),
        close: () => pool.terminate(),
      };
    }
    case "poolifier": {
      const { FixedThreadPool } = require("poolifier") as {
        FixedThreadPool: new (n: number, file: string) => {
          execute(data: Job): Promise<number>;
          destroy(): Promise<void>;
        };
      };
      const pool = new FixedThreadPool(n, file("poolifier_worker.ts"));
      return { run: (j) => pool.execute(j), close: () => pool.destroy() };
    }
  }
}

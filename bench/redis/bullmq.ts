// BullMQ, the job queue workq's Redis transport is compared with: pinned in
// bench/redis/package.json and installed (by scripts/bench.mjs) into
// bench/redis/node_modules, never a dependency of workq. Loaded with require
// from that folder, behind a minimal typed interface, so that
// `deno check bench/` never reads its types and Deno needs no node_modules of
// its own.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

const folder = new URL("./", import.meta.url);
const require = createRequire(new URL("package.json", folder));

/** A BullMQ job as the benchmark's processor sees it. */
export interface Job {
  data: { n: number };
}

/** What the benchmark needs of a BullMQ `Queue`. */
export interface BullQueue {
  waitUntilReady(): Promise<unknown>;
  addBulk(
    jobs: { name: string; data: { n: number } }[],
  ): Promise<unknown>;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** What the benchmark needs of a BullMQ `Worker`. */
export interface BullWorker {
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
}

/** BullMQ's classes, as far as the benchmark uses them. */
export interface BullMQ {
  Queue: new (name: string, options: Record<string, unknown>) => BullQueue;
  Worker: new (
    name: string,
    processor: (job: Job) => Promise<unknown>,
    options: Record<string, unknown>,
  ) => BullWorker;
}

/** Whether BullMQ (and the client it loads, ioredis) are installed. */
export function bullmqInstalled(): boolean {
  return ["bullmq", "ioredis"].every((p) =>
    existsSync(new URL(`node_modules/${p}/package.json`, folder))
  );
}

/** BullMQ's exact version, from its package.json. */
export function bullmqVersion(): string {
  const file = new URL("node_modules/bullmq/package.json", folder);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string })
    .version;
}

/** Loads BullMQ from bench/redis/node_modules. */
export function loadBullMQ(): BullMQ {
  return require("bullmq") as BullMQ;
}

/** BullMQ's connection options for a `redis://host:port` URL. */
export function connection(url: string): Record<string, unknown> {
  const { hostname, port } = new URL(url);
  // A worker's blocking commands need maxRetriesPerRequest: null.
  return { host: hostname, port: Number(port), maxRetriesPerRequest: null };
}

// The worker file of workerpool: registers `job`. workerpool is loaded from
// bench/peers/node_modules with require (Deno runs with "nodeModulesDir": "none").
import { createRequire } from "node:module";
import { job } from "../work.ts";

const require = createRequire(import.meta.url);
const workerpool = require("workerpool") as {
  worker(
    methods: Record<string, (m: number | { spin: number }) => number>,
  ): void;
};
workerpool.worker({ job });

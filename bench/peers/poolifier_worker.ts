// The worker file of poolifier: a ThreadWorker that runs `job`. poolifier is
// loaded from bench/peers/node_modules with require.
import { createRequire } from "node:module";
import { job } from "../work.ts";

const require = createRequire(import.meta.url);
const { ThreadWorker } = require("poolifier") as {
  ThreadWorker: new (fn: (m: number | { spin: number }) => number) => unknown;
};
export default new ThreadWorker(job);

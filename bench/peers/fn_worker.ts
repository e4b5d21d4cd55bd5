// The worker file of piscina and tinypool: the default export runs each job.
import { job } from "../work.ts";

export default job;

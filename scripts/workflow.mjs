// Checks .github/workflows/ci.yml, parsed with a real YAML parser: its test
// matrix names Deno, Bun, Node 22 and Node 24, and every job runs the one
// test command, `node scripts/test.mjs`, with selectors it knows.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { root } from "./tools.mjs";

export const WORKFLOW = ".github/workflows/ci.yml";
export const RUNTIMES = ["deno", "bun", "node22", "node24"];
const COMMAND = /\bnode scripts\/test\.mjs\b([^\n;&|]*)/g;

/** The combinations a job's strategy.matrix runs (GitHub's include rules). */
function combinations(matrix) {
  if (!matrix || typeof matrix !== "object") return [{}];
  let combos = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    if (key === "include" || key === "exclude") continue;
    if (!Array.isArray(values)) {
      throw new Error(`strategy.matrix.${key} is not a list`);
    }
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  const axes = Object.keys(combos[0]);
  if (!axes.length) combos = []; // only include: its entries are the jobs
  for (const entry of matrix.include ?? []) {
    const matching = axes.length
      ? combos.filter((c) =>
        axes.every((k) => !(k in entry) || entry[k] === c[k])
      )
      : [];
    if (matching.length) {
      for (const c of matching) Object.assign(c, entry);
    } else combos.push({ ...entry });
  }
  return combos.length ? combos : [{}];
}

/** Replaces `${{ matrix.KEY }}` with the combination's value. */
function expand(text, combo, where) {
  return text.replace(/\$\{\{\s*matrix\.(\w+)\s*\}\}/g, (_, key) => {
    if (!(key in combo)) throw new Error(`${where}: matrix.${key} is not set`);
    return String(combo[key]);
  });
}

/**
 * Parses the workflow and returns its problems (empty when it is right).
 * `YAML` is the `yaml` package; `labels` the names test.mjs selects by
 * prefix ("static checks", "deno", ..., "consumers").
 */
export function checkWorkflow(YAML, labels, path = join(root, WORKFLOW)) {
  const problems = [];
  let doc;
  try {
    doc = YAML.parse(readFileSync(path, "utf8"), { prettyErrors: true });
  } catch (error) {
    return [`${WORKFLOW} is not valid YAML: ${error.message}`];
  }
  const jobs = doc?.jobs;
  if (!jobs || typeof jobs !== "object" || !Object.keys(jobs).length) {
    return [`${WORKFLOW} has no jobs`];
  }
  if (!doc.on && !doc[true]) problems.push(`${WORKFLOW} has no "on" trigger`);
  const selected = new Set();
  for (const [id, job] of Object.entries(jobs)) {
    const where = `${WORKFLOW}: job ${id}`;
    if (!job?.["runs-on"]) problems.push(`${where} has no runs-on`);
    const runs = (Array.isArray(job?.steps) ? job.steps : [])
      .map((step) => step?.run)
      .filter((run) => typeof run === "string");
    const commands = runs.flatMap((run) => [...run.matchAll(COMMAND)]);
    if (!commands.length) {
      problems.push(`${where} does not run node scripts/test.mjs`);
      continue;
    }
    let combos;
    try {
      combos = combinations(job.strategy?.matrix);
    } catch (error) {
      problems.push(`${where}: ${error.message}`);
      continue;
    }
    for (const combo of combos) {
      for (const [, rest] of commands) {
        let args;
        try {
          args = expand(rest, combo, where).trim().split(/\s+/).filter(
            Boolean,
          );
        } catch (error) {
          problems.push(error.message);
          continue;
        }
        if (!args.length) { for (const l of labels) selected.add(l); }
        for (const arg of args) {
          const hits = labels.filter((l) => l.startsWith(arg));
          if (!hits.length) {
            problems.push(
              `${where} runs node scripts/test.mjs ${arg}, which selects nothing (known: ${
                labels.join(", ")
              })`,
            );
          }
          if (job.strategy?.matrix && RUNTIMES.includes(arg)) {
            selected.add(`matrix:${arg}`);
          }
          for (const l of hits) selected.add(l);
        }
      }
    }
  }
  for (const runtime of RUNTIMES) {
    if (!selected.has(`matrix:${runtime}`)) {
      problems.push(
        `${WORKFLOW}: no matrix job runs node scripts/test.mjs ${runtime}`,
      );
    }
  }
  if (!selected.has("static checks")) {
    problems.push(`${WORKFLOW}: no job runs the static checks`);
  }
  return problems;
}

export const PUBLISH = ".github/workflows/publish.yml";

/**
 * Checks the publish workflow: it runs on version tags only, may ask for an
 * OIDC token (provenance, no stored secret), and runs the whole suite and
 * the tag check before `deno publish`. Returns its problems.
 */
export function checkPublish(YAML, path = join(root, PUBLISH)) {
  let doc;
  try {
    doc = YAML.parse(readFileSync(path, "utf8"), { prettyErrors: true });
  } catch (error) {
    return [`${PUBLISH} is not valid YAML: ${error.message}`];
  }
  const problems = [];
  const on = doc?.on ?? doc?.[true];
  const tags = on?.push?.tags;
  if (!Array.isArray(tags) || !tags.length || on.push.branches) {
    problems.push(`${PUBLISH}: it must run on pushed version tags only`);
  }
  if (doc?.permissions?.["id-token"] !== "write") {
    problems.push(`${PUBLISH}: permissions must grant id-token: write (OIDC)`);
  }
  const jobs = Object.values(doc?.jobs ?? {});
  if (jobs.length !== 1) problems.push(`${PUBLISH}: expected one job`);
  const runs = (jobs[0]?.steps ?? []).map((s) => s?.run ?? "");
  const at = (re) => runs.findIndex((r) => re.test(r));
  const suite = at(/^node scripts\/test\.mjs\s*$/);
  const tag = at(/node scripts\/workflow\.mjs tag /);
  const publish = at(/\bdeno publish\b/);
  if (suite < 0) problems.push(`${PUBLISH}: no step runs the whole suite`);
  if (tag < 0) problems.push(`${PUBLISH}: no step checks the tag`);
  if (publish < 0) problems.push(`${PUBLISH}: no step runs deno publish`);
  else if (/--dry-run|--token/.test(runs[publish])) {
    problems.push(`${PUBLISH}: deno publish must publish through OIDC`);
  }
  if (publish >= 0 && (publish < suite || publish < tag)) {
    problems.push(
      `${PUBLISH}: deno publish runs before the suite or the tag check`,
    );
  }
  return problems;
}

/** Fails unless `tag` is "v" + deno.json's version. */
export function checkTag(tag) {
  const { version } = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  if (tag !== `v${version}`) {
    throw new Error(`the tag ${tag} is not v${version}, deno.json's version`);
  }
}

// `node scripts/workflow.mjs tag v0.1.0`: the publish workflow's tag check.
if (process.argv[1]?.endsWith("workflow.mjs") && process.argv[2] === "tag") {
  try {
    checkTag(process.argv[3]);
    console.log(`${process.argv[3]} is deno.json's version`);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}

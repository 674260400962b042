/**
 * `npm run bench [-- --quick] [--steps 01,02]`: the standard scenarios on
 * every step, in one run.
 *
 * @module
 */
import { FULL_SIZES, QUICK_SIZES } from "../bench/scenarios.ts";
import { renderSuiteTable, runStandardSuite } from "../bench/standard-suite.ts";
import { findStep, loadSteps } from "../step-directory.ts";
import { openStep, type ServiceUrls } from "./connect.ts";
import { parseFlags } from "./parse.ts";
import { runMain } from "./run-main.ts";
import { saveResults } from "./save-results.ts";
import { UsageError } from "./usage-error.ts";

const USAGE = [
  "Usage: npm run bench [-- --quick] [--steps 01,02,…]",
  "",
  "Runs the standard scenarios (throughput, pickup latency, dequeue with history,",
  "idle load) on every step, in one run, and prints one table. Results are saved",
  "as JSON under .data/bench/ with the machine, versions and settings.",
  "",
  "  --quick        small sizes: finishes in seconds",
  "  --steps LIST   only these steps, e.g. --steps 01,03",
].join("\n");

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseFlags(
    argv,
    { quick: { type: "boolean" }, steps: { type: "string" } },
    USAGE,
    0,
  );
  if (parsed.flags.help) {
    console.log(USAGE);
    return 0;
  }
  const all = await loadSteps();
  const chosen =
    typeof parsed.flags.steps === "string"
      ? parsed.flags.steps.split(",").map((query) => {
          const step = findStep(all, query.trim());
          if (!step) throw new UsageError(`Unknown step ${JSON.stringify(query)}.`, USAGE);
          return step;
        })
      : all;
  const quick = parsed.flags.quick === true;
  const sizes = quick ? QUICK_SIZES : FULL_SIZES;
  const urls: ServiceUrls = {};
  console.log(`Standard scenarios${quick ? " (--quick)" : ""} on ${chosen.length} step(s):`);
  const results = await runStandardSuite(
    chosen,
    (step) => openStep(step, urls, { namespace: `bench_${step.id}` }),
    sizes,
    {
      line: (text = "") => console.log(text),
    },
  );
  console.log("");
  for (const line of renderSuiteTable(chosen, results)) console.log(line);
  console.log(
    `\nthroughput: ${sizes.throughputJobs} no-op jobs, one worker, concurrency ${sizes.throughputConcurrency}; ` +
      `latency: ${sizes.latencyJobs} jobs ${sizes.latencyGapMs} ms apart; history: ${sizes.historyDequeuedJobs} jobs ` +
      `with ${sizes.historyFinishedJobs} finished; idle: ${sizes.idleSeconds} s. Ratios: against the step it builds on.`,
  );
  await saveResults(urls, "standard", quick, sizes, results);
  return 0;
}

runMain(() => main(process.argv.slice(2)));

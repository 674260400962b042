/**
 * `npm run practice NN -- bench`: the standard scenarios on the attendee's
 * step and on the reference, one after the other in the same run, in one
 * table, with yours against the reference as ratios. Each runs in its own
 * namespace: `practice_NN` for yours, `bench_NN` (as `npm run bench`) for
 * the reference.
 *
 * @module
 */
import type { Step } from "../../step.ts";
import { FULL_SIZES, QUICK_SIZES } from "../bench/scenarios.ts";
import { renderSuiteTable, runStandardSuite } from "../bench/standard-suite.ts";
import { openStep, type ServiceUrls } from "../cli/connect.ts";
import { formatRatio } from "../format.ts";

export async function runPracticeBench(
  practice: Step,
  reference: Step,
  quick: boolean,
): Promise<void> {
  const sizes = quick ? QUICK_SIZES : FULL_SIZES;
  const urls: ServiceUrls = {};
  const out = { line: (text = "") => console.log(text) };
  console.log(
    `Standard scenarios${quick ? " (--quick)" : ""}: step ${reference.id} (reference), then yours:`,
  );
  const [ours, yours] = await runStandardSuite(
    [reference, practice],
    (step) =>
      openStep(step, urls, {
        namespace: step === practice ? `practice_${step.id}` : `bench_${step.id}`,
      }),
    sizes,
    out,
  );
  if (!ours || !yours) throw new Error("The benchmark measured neither step.");
  const rows = [
    { ...ours, step: `${reference.id} reference` },
    { ...yours, step: `${practice.id} yours` },
  ];
  console.log("");
  for (const line of renderSuiteTable([], rows)) console.log(line);
  console.log(
    `\nYours against the reference, in this run: process/s ${formatRatio(yours.throughput.processPerSecond, ours.throughput.processPerSecond)}, ` +
      `pickup p50 ${formatRatio(yours.latency.p50Ms, ours.latency.p50Ms)}, ` +
      `dequeue/s with history ${formatRatio(yours.history.dequeuePerSecond, ours.history.dequeuePerSecond)}. ` +
      "One run on a shared machine: differences within ×1.5 are noise.",
  );
}

/**
 * `npm run step 01 -- bench`: how the naive poll slows down as history grows.
 *
 * The same number of jobs is dequeued with 0, 10,000 and 100,000 finished
 * jobs already in the table, each level in a fresh schema, all in one run;
 * the rates are reported against the empty table as ratios.
 *
 * @module
 */
import {
  type HistoryResult,
  measureDequeueWithHistory,
} from "../../../lib/workshop/bench/scenarios.ts";
import { median } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, formatRatio, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

const FULL = { historyLevels: [0, 10_000, 100_000], jobs: 1_000, rounds: 3, timeoutMs: 300_000 };
const QUICK = { historyLevels: [0, 2_000, 10_000], jobs: 100, rounds: 1, timeoutMs: 60_000 };

export async function runBenchmark({ open, out, quick, saveResults }: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 01 benchmark — dequeue rate as history grows");
  say(
    out,
    `${settings.jobs} no-op jobs, one worker with one slot, with ${settings.historyLevels.map(formatNumber).join(" / ")} ` +
      `finished jobs already in the table; ${settings.rounds} round(s), median reported.`,
  );
  const instance = await open({ namespace: "bench01" });
  const results: HistoryResult[][] = settings.historyLevels.map(() => []);
  try {
    // Rounds go across the levels (0, 10k, 100k, 0, 10k, 100k, …) so that
    // drift in the machine's load affects every level alike.
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, level] of settings.historyLevels.entries()) {
        await instance.reset();
        const result = await measureDequeueWithHistory(
          instance,
          level,
          settings.jobs,
          settings.timeoutMs,
        );
        results[index]?.push(result);
      }
    }
  } finally {
    await instance.close();
  }

  const medians = results.map((runs) => median(runs.map((run) => run.dequeuePerSecond)));
  const baseline = medians[0] ?? Number.NaN;
  const rows = settings.historyLevels.map((level, index) => {
    const runs = results[index] ?? [];
    const missing = Math.max(...runs.map((run) => run.check.missing));
    const duplicates = Math.max(...runs.map((run) => run.check.duplicates));
    return [
      formatNumber(level),
      formatNumber(medians[index] ?? Number.NaN),
      formatRatio(medians[index] ?? Number.NaN, baseline),
      missing === 0 && duplicates === 0
        ? "all ran once"
        : `${missing} missing, ${duplicates} twice`,
    ];
  });
  out.line("");
  for (const line of renderTable(["finished jobs", "jobs/s", "vs empty", "check"], rows))
    out.line(`  ${line}`);
  await saveResults("step-01", settings, {
    levels: settings.historyLevels,
    medians,
    runs: results,
  });
}

/**
 * `npm run step 02 -- bench`: the history scenario of step 01, run on step 01
 * and step 02 in the same run, and throughput with 1, 2 and 4 workers
 * sharing the queue.
 *
 * @module
 */

import { now } from "../../../lib/events.ts";
import type { Output, StepInstance } from "../../../lib/step.ts";
import { progressReporter } from "../../../lib/workshop/bench/progress.ts";
import { type RunCheck, RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import {
  type HistoryResult,
  measureDequeueWithHistory,
} from "../../../lib/workshop/bench/scenarios.ts";
import { median } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, formatRatio, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

const FULL = {
  historyLevels: [0, 10_000, 100_000],
  historyJobs: 1_000,
  workerCounts: [1, 2, 4],
  throughputJobs: 5_000,
  rounds: 3,
  timeoutMs: 300_000,
};
const QUICK = {
  historyLevels: [0, 2_000, 10_000],
  historyJobs: 100,
  workerCounts: [1, 2, 4],
  throughputJobs: 300,
  rounds: 1,
  timeoutMs: 60_000,
};
type Settings = typeof FULL;

/** The two steps compared, each in a namespace of its own. */
const STEPS = ["01", "02"] as const;

export async function runBenchmark(context: RunContext): Promise<void> {
  const settings = context.quick ? QUICK : FULL;
  const { out } = context;
  heading(out, "Step 02 benchmark — dequeue rate as history grows, 01 against 02");
  say(
    out,
    `${settings.historyJobs} no-op jobs, one worker with one slot, with ${settings.historyLevels.map(formatNumber).join(" / ")} ` +
      `finished jobs already in the tables; ${settings.rounds} round(s), median reported.`,
  );
  const history = await measureHistory(context, settings);
  heading(out, "Step 02 benchmark — several workers sharing the queue");
  say(
    out,
    `${formatNumber(settings.throughputJobs)} no-op jobs enqueued in bulk, then drained by ` +
      `${settings.workerCounts.join(" / ")} workers (one slot each); ${settings.rounds} round(s), median reported.`,
  );
  const workers = await measureWorkers(context, settings);
  await context.saveResults("step-02", settings, { history, workers });
}

async function measureHistory({ open, out }: RunContext, settings: Settings) {
  const instances = await Promise.all(
    STEPS.map((step) => open({ step, namespace: `bench02_${step}` })),
  );
  // results[step][level] = one result per round
  const results: HistoryResult[][][] = STEPS.map(() => settings.historyLevels.map(() => []));
  try {
    // Rounds go across steps and levels, so drift in the machine's load
    // affects every cell alike.
    for (let round = 0; round < settings.rounds; round++) {
      for (const [levelIndex, level] of settings.historyLevels.entries()) {
        for (const [stepIndex, instance] of instances.entries()) {
          await instance.reset();
          const result = await measureDequeueWithHistory(
            instance,
            level,
            settings.historyJobs,
            settings.timeoutMs,
          );
          results[stepIndex]?.[levelIndex]?.push(result);
        }
      }
    }
  } finally {
    await Promise.all(instances.map((instance) => instance.close()));
  }
  const medians = results.map((levels) =>
    levels.map((runs) => median(runs.map((run) => run.dequeuePerSecond))),
  );
  const [naive = [], ready = []] = medians;
  const rows = settings.historyLevels.map((level, index) => {
    const checks = results.flatMap((levels) => (levels[index] ?? []).map((run) => run.check));
    return [
      formatNumber(level),
      `${formatNumber(naive[index] ?? Number.NaN)} (${formatRatio(naive[index] ?? Number.NaN, naive[0] ?? Number.NaN)})`,
      `${formatNumber(ready[index] ?? Number.NaN)} (${formatRatio(ready[index] ?? Number.NaN, ready[0] ?? Number.NaN)})`,
      formatRatio(ready[index] ?? Number.NaN, naive[index] ?? Number.NaN),
      describeChecks(checks),
    ];
  });
  printTable(
    out,
    ["finished jobs", "01 jobs/s (vs empty)", "02 jobs/s (vs empty)", "02 vs 01", "check"],
    rows,
  );
  return { levels: settings.historyLevels, medians: { "01": naive, "02": ready }, runs: results };
}

interface WorkersResult {
  readonly workers: number;
  readonly jobsPerSecond: number;
  readonly check: RunCheck;
}

async function measureWorkers({ open, out }: RunContext, settings: Settings) {
  const instance = await open({ namespace: "bench02_workers", poolSize: 10 });
  const results: WorkersResult[][] = settings.workerCounts.map(() => []);
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, workers] of settings.workerCounts.entries()) {
        await instance.reset();
        results[index]?.push(
          await drainWithWorkers(instance, workers, settings.throughputJobs, settings.timeoutMs),
        );
      }
    }
  } finally {
    await instance.close();
  }
  const medians = results.map((runs) => median(runs.map((run) => run.jobsPerSecond)));
  const rows = settings.workerCounts.map((workers, index) => [
    String(workers),
    formatNumber(medians[index] ?? Number.NaN),
    formatRatio(medians[index] ?? Number.NaN, medians[0] ?? Number.NaN),
    describeChecks((results[index] ?? []).map((run) => run.check)),
  ]);
  printTable(out, ["workers", "jobs/s", "vs 1 worker", "check"], rows);
  return { workerCounts: settings.workerCounts, medians, runs: results };
}

/** Enqueues `jobs` no-op jobs, then times `workers` workers (one slot each) draining them. */
async function drainWithWorkers(
  instance: StepInstance,
  workers: number,
  jobs: number,
  timeoutMs: number,
): Promise<WorkersResult> {
  const ids: string[] = [];
  for (let offset = 0; offset < jobs; offset += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, jobs - offset) }, () => ({
      name: "Noop",
      args: {},
    }));
    ids.push(...(await instance.enqueueMany(batch)));
  }
  const tracker = new RunTracker(instance.events);
  const progress = progressReporter(`step 02 with ${workers} worker(s)`);
  const start = now();
  const running = Array.from({ length: workers }, (_, n) =>
    instance.startWorker({ name: `bench-${n + 1}` }),
  );
  await tracker.waitForAll(ids, timeoutMs, progress.update);
  const seconds = (now() - start) / 1000;
  progress.done();
  await Promise.all(running.map((worker) => worker.stop()));
  tracker.stop();
  const check = tracker.check(ids);
  return { workers, jobsPerSecond: check.completed / seconds, check };
}

function describeChecks(checks: readonly RunCheck[]): string {
  const missing = Math.max(0, ...checks.map((check) => check.missing));
  const duplicates = Math.max(0, ...checks.map((check) => check.duplicates));
  return missing === 0 && duplicates === 0
    ? "all ran once"
    : `${missing} missing, ${duplicates} twice`;
}

function printTable(out: Output, header: string[], rows: string[][]): void {
  out.line("");
  for (const line of renderTable(header, rows)) out.line(`  ${line}`);
}

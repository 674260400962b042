/**
 * `npm run step 05 -- bench`: slow jobs with more slots than connections,
 * step 03 (each running job holds a connection) against step 05 (claims), in
 * the same run.
 *
 * @module
 */

import { now } from "../../../lib/events.ts";
import type { StepInstance } from "../../../lib/step.ts";
import { progressReporter } from "../../../lib/workshop/bench/progress.ts";
import { type RunCheck, RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import { median } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, formatRatio, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

interface Settings {
  readonly jobs: number;
  readonly sleepMs: number;
  readonly concurrency: number;
  readonly poolSize: number;
  readonly rounds: number;
  readonly timeoutMs: number;
}

const FULL: Settings = {
  jobs: 200,
  sleepMs: 50,
  concurrency: 20,
  poolSize: 5,
  rounds: 3,
  timeoutMs: 120_000,
};
const QUICK: Settings = { ...FULL, jobs: 40, rounds: 1, timeoutMs: 30_000 };

/** The step compared against, and this one; each in a namespace of this benchmark's own. */
const RUNS = [
  { step: "03", namespace: "bench05_vs03" },
  { step: "05", namespace: "bench05" },
] as const;

interface SlowJobsResult {
  readonly seconds: number;
  readonly check: RunCheck;
}

export async function runBenchmark({ open, out, quick, saveResults }: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 05 benchmark — slow jobs, more slots than connections, 03 against 05");
  say(
    out,
    `${settings.jobs} jobs that sleep ${settings.sleepMs} ms, enqueued in one batch; one worker with ` +
      `${settings.concurrency} slots on a pool of ${settings.poolSize} connections; wall time from the ` +
      `worker's start to the last job's end. Ideal: ${settings.jobs} × ${settings.sleepMs} ms / ` +
      `${settings.concurrency} = ${formatNumber((settings.jobs * settings.sleepMs) / settings.concurrency / 1000)} s. ` +
      `${settings.rounds} round(s), interleaved, median reported.`,
  );
  const instances = await Promise.all(
    RUNS.map((run) => open({ ...run, poolSize: settings.poolSize })),
  );
  const results: SlowJobsResult[][] = RUNS.map(() => []);
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, instance] of instances.entries()) {
        out.line(`  round ${round + 1}: step ${instance.step.id}…`);
        await instance.reset();
        results[index]?.push(await measureSlowJobs(instance, settings));
      }
    }
  } finally {
    await Promise.all(instances.map((instance) => instance.close()));
  }
  const seconds = (index: number) => median((results[index] ?? []).map((run) => run.seconds));
  const rows = RUNS.map((run, index) => {
    const checks = (results[index] ?? []).map((result) => result.check);
    const missing = Math.max(0, ...checks.map((check) => check.missing));
    const duplicates = Math.max(0, ...checks.map((check) => check.duplicates));
    return [
      run.step,
      `${formatNumber(seconds(index))} s`,
      `${formatNumber(settings.jobs / seconds(index))}`,
      missing === 0 && duplicates === 0
        ? "all ran once"
        : `${missing} missing, ${duplicates} twice`,
    ];
  });
  rows.push(["05 vs 03", formatRatio(seconds(1), seconds(0)), "", ""]);
  out.line("");
  for (const line of renderTable(["step", "wall time", "jobs/s", "check"], rows))
    out.line(`  ${line}`);
  await saveResults("step-05", settings, { steps: RUNS.map((run) => run.step), results });
}

async function measureSlowJobs(
  instance: StepInstance,
  settings: Settings,
): Promise<SlowJobsResult> {
  const tracker = new RunTracker(instance.events);
  const ids = await instance.enqueueMany(
    Array.from({ length: settings.jobs }, () => ({
      name: "Sleep",
      args: { ms: settings.sleepMs },
    })),
  );
  const start = now();
  const worker = instance.startWorker({ concurrency: settings.concurrency });
  const progress = progressReporter(`step ${instance.step.id} slow jobs`);
  await tracker.waitForAll(ids, settings.timeoutMs, progress.update);
  const seconds = (now() - start) / 1000;
  progress.done();
  await worker.stop();
  tracker.stop();
  return { seconds, check: tracker.check(ids) };
}

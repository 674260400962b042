/**
 * `npm run step 04 -- bench`: Redis against PostgreSQL with LISTEN/NOTIFY (step 03), in the
 * same run — throughput, pickup latency, idle load — and then the price: a worker process
 * killed with `kill -9` while it runs jobs, and how many of its jobs each step loses.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Output, StepInstance } from "../../../lib/step.ts";
import { runWorkerAndKill } from "../../../lib/workshop/bench/kill-worker.ts";
import { RunTracker, sumChecks } from "../../../lib/workshop/bench/run-tracker.ts";
import {
  type LatencyResult,
  measureIdleLoad,
  measurePickupLatency,
  measureThroughput,
  type ThroughputResult,
} from "../../../lib/workshop/bench/scenarios.ts";
import { median } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, formatRatio, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

const FULL = {
  throughputJobs: 10_000,
  concurrency: 10,
  latencyJobs: 200,
  latencyGapMs: 20,
  idleSeconds: 3,
  rounds: 3,
  crash: { jobs: 200, sleepMs: 200, concurrency: 10, killAfterFinished: 40 },
  timeoutMs: 300_000,
};
const QUICK = {
  throughputJobs: 500,
  concurrency: 10,
  latencyJobs: 20,
  latencyGapMs: 20,
  idleSeconds: 0.5,
  rounds: 1,
  crash: { jobs: 40, sleepMs: 100, concurrency: 5, killAfterFinished: 5 },
  timeoutMs: 60_000,
};
type Settings = typeof FULL;

/** The step this one is compared with. */
const COMPARED_WITH = "03";

interface StepRuns {
  readonly instance: StepInstance;
  readonly throughput: ThroughputResult[];
  readonly latency: LatencyResult[];
  idlePerSecond: number;
  crash?: CrashResult;
}

export async function runBenchmark({ open, out, quick, saveResults }: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 04 benchmark — Redis (04) against PostgreSQL + LISTEN/NOTIFY (03)");
  say(
    out,
    `Throughput: ${formatNumber(settings.throughputJobs)} no-op jobs enqueued in bulk, one worker with ` +
      `${settings.concurrency} slots. Pickup: ${settings.latencyJobs} jobs enqueued ${settings.latencyGapMs} ms ` +
      "apart to an idle worker, timed from the enqueue call (its commit, or its round trips, included) to the " +
      `start of perform. ${settings.rounds} round(s), alternating steps, median reported.`,
  );
  const runs: StepRuns[] = [];
  try {
    runs.push(emptyRuns(await open({ namespace: "bench04" })));
    const other = await openComparison(open, out);
    if (other) runs.push(emptyRuns(other));

    for (let round = 0; round < settings.rounds; round++) {
      for (const run of runs) {
        await run.instance.reset();
        run.throughput.push(
          await measureThroughput(
            run.instance,
            settings.throughputJobs,
            settings.concurrency,
            settings.timeoutMs,
          ),
        );
        await run.instance.reset();
        run.latency.push(
          await measurePickupLatency(
            run.instance,
            settings.latencyJobs,
            settings.latencyGapMs,
            settings.timeoutMs,
            // From the enqueue call: with Redis the job often starts before the call returns.
            "call",
          ),
        );
      }
    }
    for (const run of runs) {
      await run.instance.reset();
      run.idlePerSecond = (
        await measureIdleLoad(run.instance, settings.idleSeconds)
      ).statementsPerSecond;
    }
    printSpeedTable(out, runs);

    heading(out, "kill -9 while a worker process runs jobs");
    const { jobs, sleepMs, concurrency, killAfterFinished } = settings.crash;
    say(
      out,
      `${jobs} jobs of ${sleepMs} ms each; a worker process (npm run step NN -- worker --concurrency ${concurrency}) ` +
        `gets SIGKILL once it has finished ${killAfterFinished}; then a healthy worker drains the queue. ` +
        'A job is "lost" if nobody ever finishes it. Step 04 can lose a job its worker never started: ' +
        "BRPOP had popped it, and the reply was on its way when the process died.",
    );
    for (const run of runs) run.crash = await measureCrash(run.instance, settings);
    printCrashTable(out, runs);
  } finally {
    for (const run of runs) await run.instance.close();
  }
  await saveResults("step-04", settings, {
    steps: runs.map((run) => ({
      step: run.instance.step.id,
      throughput: run.throughput,
      latency: run.latency,
      idlePerSecond: run.idlePerSecond,
      crash: run.crash,
    })),
  });
}

function emptyRuns(instance: StepInstance): StepRuns {
  return { instance, throughput: [], latency: [], idlePerSecond: Number.NaN };
}

/** Step 03, if this checkout has it; otherwise step 04 runs alone, and says so. */
async function openComparison(
  open: RunContext["open"],
  out: Output,
): Promise<StepInstance | undefined> {
  try {
    return await open({ step: COMPARED_WITH, namespace: `bench04_vs${COMPARED_WITH}` });
  } catch (error) {
    if (error instanceof Error && error.message === `No step ${COMPARED_WITH}.`) {
      say(
        out,
        `(There is no step ${COMPARED_WITH} in steps/ to compare with: measuring step 04 alone, without ratios.)`,
      );
      return undefined;
    }
    throw error;
  }
}

function printSpeedTable(out: Output, runs: readonly StepRuns[]): void {
  const base = runs.find((run) => run.instance.step.id === COMPARED_WITH);
  const baseProcess = base ? median(base.throughput.map((r) => r.processPerSecond)) : undefined;
  const baseEnqueue = base ? median(base.throughput.map((r) => r.enqueuePerSecond)) : undefined;
  const baseP50 = base ? median(base.latency.map((r) => r.p50Ms)) : undefined;
  const ratio = (value: number, baseValue: number | undefined) =>
    baseValue === undefined ? "" : ` (${formatRatio(value, baseValue)})`;
  const rows = runs.map((run) => {
    const enqueue = median(run.throughput.map((r) => r.enqueuePerSecond));
    const processed = median(run.throughput.map((r) => r.processPerSecond));
    const p50 = median(run.latency.map((r) => r.p50Ms));
    const p95 = median(run.latency.map((r) => r.p95Ms));
    const p99 = median(run.latency.map((r) => r.p99Ms));
    const { missing, duplicates } = sumChecks(
      [...run.throughput, ...run.latency].map((r) => r.check),
    );
    return [
      `${run.instance.step.id} ${run.instance.step.slug}`,
      `${formatNumber(enqueue)}${ratio(enqueue, baseEnqueue)}`,
      `${formatNumber(processed)}${ratio(processed, baseProcess)}`,
      `${p50.toFixed(2)} / ${p95.toFixed(2)} / ${p99.toFixed(2)}${ratio(p50, baseP50)}`,
      formatNumber(run.idlePerSecond),
      missing === 0 && duplicates === 0
        ? "all ran once"
        : `${missing} missing, ${duplicates} twice`,
    ];
  });
  out.line("");
  for (const line of renderTable(
    ["step", "enqueue/s", "process/s", "call→start p50 / p95 / p99 ms", "idle cmd/s", "check"],
    rows,
  )) {
    out.line(`  ${line}`);
  }
}

interface CrashResult {
  readonly jobs: number;
  /** Finished (or failed) by the worker before it was killed, as it printed. */
  readonly finishedBeforeKill: number;
  /** Finished (or failed) by the healthy worker afterwards. */
  readonly finishedAfter: number;
  /** Never finished by anyone. */
  readonly lost: number;
  /** Started by the killed worker, then run again by the healthy one. */
  readonly runAgain: number;
  /** Finished by both: ran to the end twice. */
  readonly finishedTwice: number;
}

/** How long the healthy worker may go without finishing anything before the rest count as lost. */
const QUIET_MS = 5_000;

async function measureCrash(instance: StepInstance, settings: Settings): Promise<CrashResult> {
  const { jobs, sleepMs, concurrency, killAfterFinished } = settings.crash;
  await instance.reset();
  const ids = await instance.enqueueMany(
    Array.from({ length: jobs }, () => ({ name: "Sleep", args: { ms: sleepMs } })),
  );
  const { startedThere, finishedThere } = await runWorkerAndKill(instance, {
    concurrency,
    killAfterFinished,
    timeoutMs: settings.timeoutMs,
  });

  // A healthy worker drains what is left; the test of "lost" is that it goes quiet.
  const tracker = new RunTracker(instance.events);
  let lastCompletion = Date.now();
  const unsubscribe = [
    instance.events.on("finished", () => {
      lastCompletion = Date.now();
    }),
    instance.events.on("failed", () => {
      lastCompletion = Date.now();
    }),
  ];
  const healthy = instance.startWorker({ concurrency, pollIntervalMs: 200 });
  const doneAnywhere = () =>
    ids.filter((id) => finishedThere.has(id) || tracker.check([id]).completed > 0);
  while (doneAnywhere().length < ids.length && Date.now() - lastCompletion < QUIET_MS) {
    await sleep(100);
  }
  await healthy.stop();
  for (const stop of unsubscribe) stop();
  tracker.stop();
  const finishedHere = new Set(ids.filter((id) => tracker.check([id]).completed > 0));
  return {
    jobs,
    finishedBeforeKill: finishedThere.size,
    finishedAfter: finishedHere.size,
    lost: ids.length - doneAnywhere().length,
    runAgain: [...startedThere].filter((id) => tracker.firstStart(id) !== undefined).length,
    finishedTwice: [...finishedThere].filter((id) => finishedHere.has(id)).length,
  };
}

function printCrashTable(out: Output, runs: readonly StepRuns[]): void {
  const rows = runs.map((run) => {
    const crash = run.crash;
    return [
      `${run.instance.step.id} ${run.instance.step.slug}`,
      formatNumber(crash?.jobs ?? Number.NaN),
      formatNumber(crash?.finishedBeforeKill ?? Number.NaN),
      formatNumber(crash?.finishedAfter ?? Number.NaN),
      formatNumber(crash?.lost ?? Number.NaN),
      formatNumber(crash?.runAgain ?? Number.NaN),
      formatNumber(crash?.finishedTwice ?? Number.NaN),
    ];
  });
  out.line("");
  for (const line of renderTable(
    ["step", "jobs", "done before kill", "done after", "lost", "started again", "done twice"],
    rows,
  )) {
    out.line(`  ${line}`);
  }
}

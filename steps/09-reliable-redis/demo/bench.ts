/**
 * `npm run step 09 -- bench`: reliable fetch against step 04's BRPOP, in the same run — what
 * the processing list, the acknowledge script and the heartbeats cost in throughput and
 * pickup latency, and what they buy: worker processes killed with `kill -9` over and over
 * while they run jobs, and how many jobs each step loses.
 *
 * @module
 */
import type { StepInstance } from "../../../lib/step.ts";
import { sumChecks } from "../../../lib/workshop/bench/run-tracker.ts";
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
import { type ChaosResult, type ChaosSettings, measureChaos } from "./chaos.ts";

const FULL = {
  throughputJobs: 10_000,
  concurrency: 10,
  latencyJobs: 200,
  latencyGapMs: 20,
  idleSeconds: 3,
  rounds: 3,
  chaos: {
    jobs: 2_000,
    sleepMs: 500,
    processes: 3,
    concurrency: 10,
    kills: 20,
    killEveryMs: 1_000,
    quietMs: 5_000,
    timeoutMs: 300_000,
  } satisfies ChaosSettings,
  timeoutMs: 300_000,
};
const QUICK: typeof FULL = {
  ...FULL,
  throughputJobs: 500,
  latencyJobs: 20,
  idleSeconds: 0.5,
  rounds: 1,
  chaos: {
    ...FULL.chaos,
    jobs: 150,
    sleepMs: 50,
    concurrency: 5,
    kills: 3,
    killEveryMs: 300,
    quietMs: 3_000,
  },
  timeoutMs: 60_000,
};

/** The step this one is compared with. */
const BASE = "04";

/**
 * Step 09's worker flags in the chaos scenario: heartbeats every 200 ms, dead after 1 s, a
 * short retry backoff, so a killed process's jobs are back within about a second and a half,
 * and the run measures loss, not the default 60 s threshold. Step 04 has no flags to give.
 */
const CHAOS_FLAGS: Record<string, readonly string[]> = {
  "04": [],
  "09": [
    ...["--heartbeat-interval", "200", "--alive-threshold", "1000"],
    ...["--retry-backoff", "100,1000,0.5", "--dispatch-interval", "100"],
  ],
};

interface StepRuns {
  readonly instance: StepInstance;
  readonly throughput: ThroughputResult[];
  readonly latency: LatencyResult[];
  readonly commandsPerJob: number[];
  idlePerSecond: number;
  chaos?: ChaosResult;
}

export async function runBenchmark({
  open,
  out,
  quick,
  saveResults,
  saveChart,
}: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 09 benchmark — reliable fetch (09) against BRPOP (04)");
  say(
    out,
    `Throughput: ${formatNumber(settings.throughputJobs)} no-op jobs enqueued in bulk, one worker with ` +
      `${settings.concurrency} slots. Pickup: ${settings.latencyJobs} jobs enqueued ${settings.latencyGapMs} ms ` +
      "apart to an idle worker, timed from the enqueue call to the start of perform. " +
      `${settings.rounds} round(s), alternating steps, median reported. Both with their default settings.`,
  );
  const runs: StepRuns[] = [];
  try {
    runs.push(emptyRuns(await open({ step: BASE, namespace: "bench09_vs04" })));
    runs.push(emptyRuns(await open({ namespace: "bench09" })));
    for (let round = 0; round < settings.rounds; round++) {
      for (const run of runs) {
        out.line(`  round ${round + 1}: step ${run.instance.step.id}…`);
        await run.instance.reset();
        const sentBefore = run.instance.statementsSent();
        run.throughput.push(
          await measureThroughput(
            run.instance,
            settings.throughputJobs,
            settings.concurrency,
            settings.timeoutMs,
          ),
        );
        // Enqueue, take, acknowledge, and the worker's start and stop: Redis commands per job.
        run.commandsPerJob.push(
          (run.instance.statementsSent() - sentBefore) / settings.throughputJobs,
        );
        await run.instance.reset();
        run.latency.push(
          await measurePickupLatency(
            run.instance,
            settings.latencyJobs,
            settings.latencyGapMs,
            settings.timeoutMs,
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

    const chaos = settings.chaos;
    heading(out, "kill -9, again and again, while worker processes run jobs");
    say(
      out,
      `${formatNumber(chaos.jobs)} jobs that sleep ${chaos.sleepMs} ms; ${chaos.processes} worker processes ` +
        `(npm run step NN -- worker --concurrency ${chaos.concurrency}); every ${chaos.killEveryMs} ms one of ` +
        `them that has started a job gets SIGKILL and a new one is started, ${chaos.kills} times; then they ` +
        `run until every job is done or none is for ${chaos.quietMs / 1000} s, and stop with SIGTERM. Done: ` +
        "finished, or in the dead queue; stuck: still waiting somewhere; lost: nowhere. Step 09's workers " +
        `run with ${CHAOS_FLAGS["09"]?.join(" ")}.`,
    );
    for (const run of runs) {
      out.line(`  step ${run.instance.step.id}…`);
      run.chaos = await measureChaos(run.instance, chaos, CHAOS_FLAGS[run.instance.step.id] ?? []);
    }
    printChaosTable(out, runs);
  } finally {
    for (const run of runs) await run.instance.close();
  }
  await saveResults("step-09", settings, {
    steps: runs.map((run) => ({
      step: run.instance.step.id,
      throughput: run.throughput,
      latency: run.latency,
      commandsPerJob: run.commandsPerJob,
      idlePerSecond: run.idlePerSecond,
      chaos: run.chaos,
    })),
  });
  await saveChart("chaos.svg", {
    title: `${settings.chaos.kills} × kill -9 among ${settings.chaos.processes} worker processes: what became of ${formatNumber(settings.chaos.jobs)} jobs`,
    valueLabel: "jobs",
    categories: runs.map((run, index) => ({
      label: `${run.instance.step.id} ${run.instance.step.slug}`,
      colour: ["#4e79a7", "#59a14f"][index] ?? "#888",
      highlight: run.instance.step.id === "09",
    })),
    series: [
      { label: "lost", values: runs.map((run) => run.chaos?.lost ?? null) },
      { label: "stuck", values: runs.map((run) => run.chaos?.stuck ?? null) },
      { label: "ran twice", values: runs.map((run) => run.chaos?.ranTwice ?? null) },
    ],
  });
}

function emptyRuns(instance: StepInstance): StepRuns {
  return { instance, throughput: [], latency: [], commandsPerJob: [], idlePerSecond: Number.NaN };
}

function printSpeedTable(out: RunContext["out"], runs: readonly StepRuns[]): void {
  const base = runs.find((run) => run.instance.step.id === BASE);
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
      median(run.commandsPerJob).toFixed(2),
      formatNumber(run.idlePerSecond),
      missing === 0 && duplicates === 0
        ? "all ran once"
        : `${missing} missing, ${duplicates} twice`,
    ];
  });
  out.line("");
  for (const line of renderTable(
    [
      "step",
      "enqueue/s",
      "process/s",
      "call→start p50 / p95 / p99 ms",
      "cmd/job",
      "idle cmd/s",
      "check",
    ],
    rows,
  )) {
    out.line(`  ${line}`);
  }
}

function printChaosTable(out: RunContext["out"], runs: readonly StepRuns[]): void {
  const rows = runs.map((run) => {
    const chaos = run.chaos;
    const cell = (value: number | undefined) => formatNumber(value ?? Number.NaN);
    return [
      `${run.instance.step.id} ${run.instance.step.slug}`,
      cell(chaos?.kills),
      cell(chaos?.done),
      cell(chaos?.lost),
      cell(chaos?.stuck),
      cell(chaos?.ranTwice),
      cell(chaos?.finishedTwice),
      chaos ? `${formatNumber(chaos.wallMs / 1000)} s` : "",
    ];
  });
  out.line("");
  for (const line of renderTable(
    ["step", "kills", "done", "lost", "stuck", "ran twice", "finished twice", "last done at"],
    rows,
  )) {
    out.line(`  ${line}`);
  }
  say(
    out,
    "Step 04 loses every job a killed process had popped (one per busy slot, and one more whose BRPOP " +
      "reply was on its way). Step 09 runs those again: a job that was interrupted ran twice — " +
      "at-least-once — and none is lost.",
  );
}

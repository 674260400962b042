/**
 * `npm run step 12 -- bench`: what the rate limit costs and what it keeps,
 * against step 08 in the same run — throughput with no limits, pickup
 * latency with and without a limit to check, the observed rate against
 * three configured ones, and the burst a fixed window lets through at a
 * window's edge.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { RateLimit, StepInstance } from "../../../lib/step.ts";
import { benchQueueOf } from "../../../lib/workshop/bench/bench-queue.ts";
import { measurePickupLatency, measureThroughput } from "../../../lib/workshop/bench/scenarios.ts";
import { median } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

interface Settings {
  readonly throughputJobs: number;
  readonly concurrency: number;
  readonly latencyJobs: number;
  readonly latencyGapMs: number;
  /** The limits whose observed rate is measured, each for `rateWindows` periods. */
  readonly limits: readonly Omit<RateLimit, "key">[];
  readonly rateWindows: number;
  /** The limit of the edge scenario. */
  readonly edgeLimit: number;
  readonly rounds: number;
  readonly timeoutMs: number;
}

const FULL: Settings = {
  throughputJobs: 10_000,
  concurrency: 10,
  latencyJobs: 200,
  latencyGapMs: 20,
  limits: [
    { limit: 5, periodMs: 1_000 },
    { limit: 50, periodMs: 1_000 },
    { limit: 100, periodMs: 500 },
  ],
  rateWindows: 10,
  edgeLimit: 10,
  rounds: 3,
  timeoutMs: 300_000,
};
const QUICK: Settings = {
  ...FULL,
  throughputJobs: 1_000,
  latencyJobs: 30,
  rateWindows: 3,
  rounds: 1,
};

/** Per second, as configured: `limit` per `periodMs`. */
function perSecond({ limit, periodMs }: Omit<RateLimit, "key">): number {
  return (limit * 1000) / periodMs;
}

export async function runBenchmark({
  open,
  out,
  quick,
  saveResults,
  saveChart,
}: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 12 benchmark — rate limits: their cost, their rate, their edge; against 08");
  const base = await open({ step: "08", namespace: "bench12_vs08" });
  const limited = await open({ namespace: "bench12" });
  try {
    const throughput = await compareThroughput(out, [base, limited], settings);
    const latency = await compareLatency(out, base, limited, settings);
    const rates = await observeRates(out, limited, settings);
    const edge = await measureEdge(out, base, limited, settings);
    await saveResults("step-12", settings, { throughput, latency, rates, edge });
    await saveChart("rate-limits.svg", {
      title: "Observed against configured rate (jobs started per second)",
      valueLabel: "jobs per second",
      categories: rates.map((rate) => ({
        label: `${rate.limit} per ${rate.periodMs} ms`,
        colour: "#59a14f",
      })),
      series: [
        { label: "configured", values: rates.map((rate) => perSecond(rate)) },
        { label: "observed", values: rates.map((rate) => rate.observedPerSecond) },
      ],
    });
  } finally {
    await Promise.all([base.close(), limited.close()]);
  }
}

/** 10,000 no-op jobs without limits, one worker with 10 slots: what the second claim path costs. */
async function compareThroughput(
  out: RunContext["out"],
  instances: readonly StepInstance[],
  settings: Settings,
): Promise<{ step: string; jobsPerSecond: number }[]> {
  say(
    out,
    `Throughput: ${formatNumber(settings.throughputJobs)} no-op jobs, no rate limits, one worker ` +
      `with ${settings.concurrency} slots; ${settings.rounds} round(s), interleaved, median.`,
  );
  const measured: number[][] = instances.map(() => []);
  for (let round = 0; round < settings.rounds; round++) {
    for (const [index, instance] of instances.entries()) {
      out.line(`  round ${round + 1}: step ${instance.step.id}…`);
      await instance.reset();
      const result = await measureThroughput(
        instance,
        settings.throughputJobs,
        settings.concurrency,
        settings.timeoutMs,
      );
      if (result.check.missing > 0 || result.check.duplicates > 0) {
        throw new Error(`step ${instance.step.id}: ${JSON.stringify(result.check)}`);
      }
      measured[index]?.push(result.processPerSecond);
    }
  }
  const rows = instances.map((instance, index) => ({
    step: instance.step.id,
    jobsPerSecond: median(measured[index] ?? []),
  }));
  const baseline = rows[0]?.jobsPerSecond ?? 1;
  for (const line of renderTable(
    ["step", "jobs/s", "against 08"],
    rows.map((row) => [
      row.step,
      formatNumber(row.jobsPerSecond),
      `×${(row.jobsPerSecond / baseline).toFixed(2)}`,
    ]),
  ))
    out.line(`  ${line}`);
  return rows;
}

/**
 * An idle worker, jobs enqueued one at a time: on 08; on 12 without a
 * limit (the ordinary claim, and its probe for limited jobs); and on 12 with
 * a limit never reached (the rate-limited claim: lock, claim, next start,
 * commit) — what checking the limit adds to a job's wait.
 */
async function compareLatency(
  out: RunContext["out"],
  base: StepInstance,
  limited: StepInstance,
  settings: Settings,
): Promise<{ run: string; p50Ms: number; p95Ms: number }[]> {
  say(
    out,
    `Pickup latency: ${settings.latencyJobs} no-op jobs enqueued ${settings.latencyGapMs} ms apart to an ` +
      "idle worker, from the enqueue's commit to the job's start.",
  );
  const never = { key: "never-reached", limit: 1_000_000, periodMs: 1_000 };
  const runs = [
    { run: "08", instance: base, options: {} },
    { run: "12, no limit", instance: limited, options: {} },
    { run: "12, with a limit", instance: limited, options: { rateLimit: never } },
  ];
  const rows: { run: string; p50Ms: number; p95Ms: number }[] = [];
  for (const { run, instance, options } of runs) {
    out.line(`  ${run}…`);
    await instance.reset();
    const result = await measurePickupLatency(
      benchQueueOf(instance, options),
      settings.latencyJobs,
      settings.latencyGapMs,
      settings.timeoutMs,
    );
    rows.push({ run, p50Ms: result.p50Ms, p95Ms: result.p95Ms });
  }
  for (const line of renderTable(
    ["run", "p50", "p95"],
    rows.map((row) => [row.run, `${row.p50Ms.toFixed(1)} ms`, `${row.p95Ms.toFixed(1)} ms`]),
  ))
    out.line(`  ${line}`);
  return rows;
}

interface ObservedRate extends Omit<RateLimit, "key"> {
  readonly observedPerSecond: number;
  /**
   * The most starts in one whole window (the limit, if it holds). Not the
   * partial first: the workers' `started` events come a few milliseconds
   * after the claim, so the first batch, claimed at any moment, may be seen
   * in the next window with that window's own batch.
   */
  readonly mostInOneWindow: number;
}

/**
 * A backlog on one key, two workers with slots to spare: the starts are
 * counted per window of the clock (the windows the limiter cuts, from the
 * epoch), the first and last left out as partial. Observed: the mean of the
 * others, per second.
 */
async function observeRates(
  out: RunContext["out"],
  instance: StepInstance,
  settings: Settings,
): Promise<ObservedRate[]> {
  say(
    out,
    `Observed rate: a backlog on one key, two workers with ${settings.concurrency * 5} slots each, ` +
      `for about ${settings.rateWindows} periods; starts counted per period of the clock, the ` +
      "first and last (partial) left out.",
  );
  const results: ObservedRate[] = [];
  for (const limit of settings.limits) {
    out.line(`  ${limit.limit} per ${limit.periodMs} ms…`);
    await instance.reset();
    const rateLimit = { key: "measured", ...limit };
    const starts: number[] = [];
    const off = instance.events.on("started", (event) => starts.push(event.at));
    const jobs = limit.limit * (settings.rateWindows + 2);
    await instance.enqueueMany(Array.from({ length: jobs }, () => ({ name: "Noop", rateLimit })));
    const workers = [1, 2].map(() =>
      instance.startWorker({ concurrency: settings.concurrency * 5 }),
    );
    const deadline = Date.now() + settings.timeoutMs;
    while (starts.length < jobs && Date.now() < deadline) await sleep(50);
    await Promise.all(workers.map((worker) => worker.stop()));
    off();
    const perWindow = countPerWindow(starts, limit.periodMs);
    const whole = perWindow.slice(1, -1);
    const observed = whole.reduce((sum, n) => sum + n, 0) / Math.max(1, whole.length);
    results.push({
      ...limit,
      observedPerSecond: (observed * 1000) / limit.periodMs,
      mostInOneWindow: Math.max(...whole),
    });
  }
  for (const line of renderTable(
    ["limit", "configured", "observed", "observed / configured", "most in one whole window"],
    results.map((rate) => [
      `${rate.limit} per ${rate.periodMs} ms`,
      `${formatNumber(perSecond(rate))}/s`,
      `${formatNumber(rate.observedPerSecond)}/s`,
      `×${(rate.observedPerSecond / perSecond(rate)).toFixed(2)}`,
      String(rate.mostInOneWindow),
    ]),
  ))
    out.line(`  ${line}`);
  return results;
}

/** How many of `starts` (epoch ms) fall in each window of `periodMs`, from the first to the last. */
function countPerWindow(starts: readonly number[], periodMs: number): number[] {
  const windows = starts.map((at) => Math.floor(at / periodMs));
  const first = Math.min(...windows);
  const counts = Array.from({ length: Math.max(...windows) - first + 1 }, () => 0);
  for (const window of windows) counts[window - first] = (counts[window - first] ?? 0) + 1;
  return counts;
}

/** The most of `starts` (epoch ms) within any `periodMs` in a row, wherever it begins. */
function mostWithinAnyPeriod(starts: readonly number[], periodMs: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  let from = 0;
  for (let to = 0; to < sorted.length; to++) {
    while ((sorted[to] ?? 0) - (sorted[from] ?? 0) >= periodMs) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

/**
 * The fixed window's known flaw, measured: 3 × the limit's jobs arrive 100
 * ms before a window's edge, with an idle worker waiting. The limit's worth
 * start at once, in the old window; another limit's worth at the edge, in
 * the new one. The most starts within any one period: twice the limit.
 * Step 08, which cannot be told the limit, starts all of them.
 */
async function measureEdge(
  out: RunContext["out"],
  base: StepInstance,
  limited: StepInstance,
  settings: Settings,
): Promise<{ step: string; jobs: number; mostWithinOnePeriod: number }[]> {
  const limit = settings.edgeLimit;
  const rateLimit = { key: "edge", limit, periodMs: 1_000 };
  say(
    out,
    `The edge of a window: ${3 * limit} jobs of one key limited to ${limit} per second arrive ` +
      "100 ms before a second ends; the most starts within any one second (wherever it begins).",
  );
  const rows: { step: string; jobs: number; mostWithinOnePeriod: number }[] = [];
  for (const instance of [base, limited]) {
    out.line(`  step ${instance.step.id}…`);
    await instance.reset();
    const starts: number[] = [];
    const off = instance.events.on("started", (event) => starts.push(event.at));
    const worker = instance.startWorker({ concurrency: 3 * limit });
    await sleep(1_900 - (Date.now() % 1_000)); // to x.9 s of the clock, a second from now
    const jobs = Array.from({ length: 3 * limit }, () => ({
      name: "Noop",
      ...(instance.step.guarantees.includes("rateLimits") ? { rateLimit } : {}),
    }));
    await instance.enqueueMany(jobs);
    const deadline = Date.now() + settings.timeoutMs;
    while (starts.length < jobs.length && Date.now() < deadline) await sleep(50);
    await worker.stop();
    off();
    rows.push({
      step: instance.step.id,
      jobs: jobs.length,
      mostWithinOnePeriod: mostWithinAnyPeriod(starts, 1_000),
    });
  }
  for (const line of renderTable(
    ["step", "jobs", "limit", "most started within one second"],
    rows.map((row) => [
      row.step,
      String(row.jobs),
      row.step === "08" ? "none (refused)" : `${limit} per second`,
      String(row.mostWithinOnePeriod),
    ]),
  ))
    out.line(`  ${line}`);
  say(
    out,
    "A fixed window counts starts per window of the clock, not per second wherever it begins: " +
      "the limit's worth at the end of one window and again at the start of the next is twice " +
      "the limit within a second. Halve the limit if the service you call counts over a " +
      "sliding second; or keep each start's time (a sliding log) — see the lesson.",
  );
  return rows;
}

/**
 * `npm run step NN -- bench --dashboard`: what the dashboard costs the
 * queue, and how fast its views answer, for any step.
 *
 * 1. **Throughput with and without the dashboard open**, in the same run,
 *    alternating: the standard throughput scenario (no-op jobs, one worker,
 *    10 slots), once with nobody looking and once with a dashboard polled
 *    every second as an open tab polls it. The goal: at most 5 % fewer jobs
 *    per second with it open.
 * 2. **Each view's time with 100,000 finished jobs** in the tables: the page,
 *    its live part, and each question the page asks the step, timed one at a
 *    time. The goal: each under 50 ms.
 *
 * The dashboard runs in this process, beside the worker, on a pool of its
 * own — as the `dashboard` command would, but sharing the worker's CPU
 * rather than another core's: on a 2-core machine the harsher of the two.
 *
 * @module
 */

import type { StepInstance } from "../../step.ts";
import { FULL_SIZES, measureThroughput, QUICK_SIZES } from "../bench/scenarios.ts";
import { median } from "../bench/statistics.ts";
import type { RunContext } from "../demo.ts";
import { formatNumber, renderTable } from "../format.ts";
import { heading, say } from "../story.ts";
import { startDashboard } from "./server.ts";
import { ROWS_SHOWN } from "./snapshot.ts";

interface Settings {
  readonly jobs: number;
  readonly concurrency: number;
  readonly rounds: number;
  readonly refreshMs: number;
  readonly finishedJobs: number;
  /** How many times each view is timed; the median is reported. */
  readonly reads: number;
  readonly timeoutMs: number;
}

const FULL: Settings = {
  jobs: FULL_SIZES.throughputJobs,
  concurrency: FULL_SIZES.throughputConcurrency,
  rounds: 3,
  refreshMs: 1000,
  finishedJobs: FULL_SIZES.historyFinishedJobs,
  reads: 20,
  timeoutMs: FULL_SIZES.timeoutMs,
};

const QUICK: Settings = {
  jobs: 2_000,
  concurrency: QUICK_SIZES.throughputConcurrency,
  rounds: 1,
  refreshMs: 1000,
  finishedJobs: QUICK_SIZES.historyFinishedJobs,
  reads: 5,
  timeoutMs: QUICK_SIZES.timeoutMs,
};

export async function runDashboardBenchmark(context: RunContext): Promise<void> {
  const settings = context.quick ? QUICK : FULL;
  const { out } = context;
  const queue = await context.open();
  const watched = await context.open({ namespace: queue.namespace });
  try {
    heading(out, `Step ${queue.step.id}: throughput with and without the dashboard open`);
    say(
      out,
      `${formatNumber(settings.jobs)} no-op jobs, one worker with ${settings.concurrency} slots; the dashboard polled every ${formatNumber(settings.refreshMs / 1000)} s. ${settings.rounds} round(s), alternating, medians.`,
    );
    const without: number[] = [];
    const withIt: number[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      for (const open of [false, true]) {
        out.line(`  round ${round}: ${open ? "dashboard open" : "no dashboard"}…`);
        await queue.reset();
        const stop = open ? await pollDashboard(watched, settings.refreshMs) : async () => 0;
        const result = await measureThroughput(
          queue,
          settings.jobs,
          settings.concurrency,
          settings.timeoutMs,
        );
        const polls = await stop();
        if (open) out.line(`  (${polls} polls of the live view)…`);
        (open ? withIt : without).push(result.processPerSecond);
      }
    }
    const base = median(without);
    const watchedRate = median(withIt);
    const cost = 1 - watchedRate / base;
    for (const line of renderTable(
      ["", "jobs/s (median)", "runs"],
      [
        ["no dashboard", formatNumber(base), without.map(formatNumber).join(", ")],
        ["dashboard open", formatNumber(watchedRate), withIt.map(formatNumber).join(", ")],
      ],
    ))
      out.line(line);
    say(
      out,
      `Cost of the open dashboard: ${formatNumber(cost * 100)} % of the throughput (goal: at most 5 %).`,
    );

    heading(out, `Each view with ${formatNumber(settings.finishedJobs)} finished jobs`);
    await queue.reset();
    await queue.fillHistory(settings.finishedJobs);
    const views = await timeViews(watched, settings.reads);
    for (const line of renderTable(
      ["view", "median ms", "slowest ms"],
      views.map((view) => [view.name, formatNumber(view.medianMs), formatNumber(view.slowestMs)]),
    ))
      out.line(line);
    const slowest = Math.max(...views.map((view) => view.medianMs));
    say(out, `The slowest view's median: ${formatNumber(slowest)} ms (goal: under 50 ms).`);
    await context.saveResults("dashboard", settings, {
      throughput: { without, withDashboard: withIt, cost },
      views,
    });
  } finally {
    await watched.close();
    await queue.close();
  }
}

/**
 * A dashboard on `instance`, and a client that fetches its live view every
 * `refreshMs` as the page's script does; the returned function stops both
 * and resolves with how many polls were made.
 */
async function pollDashboard(
  instance: StepInstance,
  refreshMs: number,
): Promise<() => Promise<number>> {
  const dashboard = await startDashboard(instance, { host: "127.0.0.1", port: 0, refreshMs });
  const liveUrl = new URL("live", dashboard.url);
  let polls = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const response = await fetch(liveUrl);
      await response.text();
      polls++;
      await new Promise((resolve) => setTimeout(resolve, refreshMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await dashboard.close();
    return polls;
  };
}

interface ViewTime {
  readonly name: string;
  readonly medianMs: number;
  readonly slowestMs: number;
}

/** Times the page, its live part, and each question it asks the step, `reads` times each. */
async function timeViews(instance: StepInstance, reads: number): Promise<ViewTime[]> {
  // Refreshed at every request (a tiny interval), so each GET reads the step again.
  const dashboard = await startDashboard(instance, { host: "127.0.0.1", port: 0, refreshMs: 1 });
  const fetchText = async (path: string) => (await fetch(new URL(path, dashboard.url))).text();
  const questions: [string, (() => unknown) | undefined][] = [
    ["GET / (the page)", () => fetchText("/")],
    ["GET /live (each refresh)", () => fetchText("/live")],
    ["counts()", () => instance.counts()],
    ["queues()", () => instance.queues()],
    ["processes()", instance.processes && (() => instance.processes?.())],
    ["failedJobs()", instance.failedJobs && (() => instance.failedJobs?.())],
    [
      `scheduledJobs(${ROWS_SHOWN})`,
      instance.scheduledJobs && (() => instance.scheduledJobs?.(ROWS_SHOWN)),
    ],
    ["concurrencyKeys()", instance.concurrencyKeys && (() => instance.concurrencyKeys?.())],
    ["rateLimits()", instance.rateLimits && (() => instance.rateLimits?.())],
    ["batches.list()", instance.batches && (() => instance.batches?.list())],
  ];
  const times: ViewTime[] = [];
  try {
    for (const [name, ask] of questions) {
      if (ask === undefined) continue;
      await ask(); // once unmeasured: connections opened, plans cached
      const ms: number[] = [];
      for (let i = 0; i < reads; i++) {
        const started = performance.now();
        await ask();
        ms.push(performance.now() - started);
      }
      times.push({ name, medianMs: median(ms), slowestMs: Math.max(...ms) });
    }
  } finally {
    await dashboard.close();
  }
  return times;
}

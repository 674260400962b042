/**
 * `npm run step 07 -- bench`: the pickup latency of one urgent job behind a
 * backlog of ordinary ones, step 06 (first come, first served) against step
 * 07 (priorities), in the same run.
 *
 * @module
 */

import type { JobEvents } from "../../../lib/events.ts";
import type { EnqueueOptions, StepInstance } from "../../../lib/step.ts";
import { progressReporter } from "../../../lib/workshop/bench/progress.ts";
import { type RunCheck, RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import { median } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, formatRatio, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

interface Settings {
  readonly backlog: number;
  /** How many backlog jobs must have started before the urgent one is enqueued: the worker is busy. */
  readonly startedBeforeUrgent: number;
  readonly concurrency: number;
  readonly rounds: number;
  readonly timeoutMs: number;
}

const FULL: Settings = {
  backlog: 5_000,
  startedBeforeUrgent: 100,
  concurrency: 10,
  rounds: 3,
  timeoutMs: 180_000,
};
const QUICK: Settings = { ...FULL, backlog: 500, startedBeforeUrgent: 20, rounds: 1 };

/** The step compared against, and this one; each in a namespace of this benchmark's own. */
const RUNS = [
  { step: "06", namespace: "bench07_vs06", urgent: {} },
  { step: "07", namespace: "bench07", urgent: { priority: 0 } },
] as const satisfies readonly { step: string; namespace: string; urgent: EnqueueOptions }[];

interface UrgentResult {
  /** From the urgent job's enqueue (committed) to its start. */
  readonly pickupMs: number;
  /** How many backlog jobs started before it. */
  readonly overtaken: number;
  readonly check: RunCheck;
}

export async function runBenchmark({ open, out, quick, saveResults }: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 07 benchmark — one urgent job behind a backlog, 06 against 07");
  say(
    out,
    `${formatNumber(settings.backlog)} no-op jobs enqueued in one batch; one worker with ` +
      `${settings.concurrency} slots; once ${settings.startedBeforeUrgent} of them have started, one ` +
      "urgent job is enqueued (priority 0 in step 07; step 06 has no way to say so). Measured: " +
      "from its enqueue to its start, and how many backlog jobs started before it. Every job is " +
      `checked to run once. ${settings.rounds} round(s), interleaved, median reported.`,
  );
  const instances = await Promise.all(RUNS.map((run) => open(run)));
  const results: UrgentResult[][] = RUNS.map(() => []);
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, instance] of instances.entries()) {
        out.line(`  round ${round + 1}: step ${instance.step.id}…`);
        await instance.reset();
        results[index]?.push(
          await measureUrgentPickup(instance, RUNS[index]?.urgent ?? {}, settings),
        );
      }
    }
  } finally {
    await Promise.all(instances.map((instance) => instance.close()));
  }
  const pickup = (index: number) => median((results[index] ?? []).map((run) => run.pickupMs));
  const rows = RUNS.map((run, index) => {
    const runs = results[index] ?? [];
    const missing = Math.max(0, ...runs.map((result) => result.check.missing));
    const duplicates = Math.max(0, ...runs.map((result) => result.check.duplicates));
    return [
      run.step,
      `${formatNumber(pickup(index))} ms`,
      formatNumber(median(runs.map((result) => result.overtaken))),
      missing === 0 && duplicates === 0
        ? "all ran once"
        : `${missing} missing, ${duplicates} twice`,
    ];
  });
  rows.push(["07 vs 06", formatRatio(pickup(1), pickup(0)), "", ""]);
  out.line("");
  for (const line of renderTable(
    ["step", "urgent job's pickup", "jobs started ahead of it", "check"],
    rows,
  ))
    out.line(`  ${line}`);
  await saveResults("step-07", settings, { steps: RUNS.map((run) => run.step), results });
}

async function measureUrgentPickup(
  instance: StepInstance,
  urgent: EnqueueOptions,
  settings: Settings,
): Promise<UrgentResult> {
  const tracker = new RunTracker(instance.events);
  const ids = await instance.enqueueMany(
    Array.from({ length: settings.backlog }, () => ({ name: "Noop" })),
  );
  const seen = watchStarts(instance.events);
  const worker = instance.startWorker({ concurrency: settings.concurrency });
  await seen.untilStarted(settings.startedBeforeUrgent, settings.timeoutMs);
  const urgentId = await instance.enqueue("Noop", {}, urgent);
  const all = [...ids, urgentId];
  const progress = progressReporter(`step ${instance.step.id} backlog`);
  await tracker.waitForAll(all, settings.timeoutMs, progress.update);
  progress.done();
  await worker.stop();
  tracker.stop();
  seen.stop();
  return {
    pickupMs: (tracker.firstStart(urgentId) ?? Number.NaN) - seen.enqueuedAt(urgentId),
    overtaken: seen.overtaken(urgentId),
    check: tracker.check(all),
  };
}

/** Counts starts, to wait for a busy worker and to tell how many jobs started between a job's enqueue and its start. */
function watchStarts(events: JobEvents) {
  let starts = 0;
  const startsAtEnqueue = new Map<string, { starts: number; at: number }>();
  const startsBefore = new Map<string, number>();
  const waiters = new Set<() => void>();
  const unsubscribe = [
    events.on("enqueued", (e) => startsAtEnqueue.set(e.jobId, { starts, at: e.at })),
    events.on("started", (e) => {
      if (!startsBefore.has(e.jobId)) startsBefore.set(e.jobId, starts);
      starts++;
      for (const wake of [...waiters]) wake();
    }),
  ];
  return {
    untilStarted(count: number, timeoutMs: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`Only ${starts} of ${count} jobs started within ${timeoutMs} ms.`));
        }, timeoutMs);
        const check = () => {
          if (starts < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    enqueuedAt: (jobId: string) => startsAtEnqueue.get(jobId)?.at ?? Number.NaN,
    /** Jobs that started after `jobId` was enqueued and before it started. */
    overtaken: (jobId: string) =>
      (startsBefore.get(jobId) ?? Number.NaN) - (startsAtEnqueue.get(jobId)?.starts ?? Number.NaN),
    stop: () => {
      for (const off of unsubscribe) off();
    },
  };
}

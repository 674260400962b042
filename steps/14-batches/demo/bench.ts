/**
 * `npm run step 14 -- bench`: what batches cost. 10,000 no-op jobs, one
 * worker with 10 slots, in the same run: on step 08 (no batches), on step
 * 14 without batches, in 1,000 batches of 10, and in one batch of 10,000 —
 * where every finish updates the same row (the hot row).
 *
 * @module
 */
import type { NewJob, StepInstance } from "../../../lib/step.ts";
import { RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import { median } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

interface Settings {
  readonly jobs: number;
  readonly concurrency: number;
  /** Jobs per batch in the "many small batches" run. */
  readonly smallBatch: number;
  /** Jobs per enqueue call (and per `add`, for the one big batch). */
  readonly chunk: number;
  readonly rounds: number;
  readonly timeoutMs: number;
}

const FULL: Settings = {
  jobs: 10_000,
  concurrency: 10,
  smallBatch: 10,
  chunk: 1_000,
  rounds: 3,
  timeoutMs: 300_000,
};
const QUICK: Settings = { ...FULL, jobs: 500, chunk: 250, rounds: 1, timeoutMs: 60_000 };

/** How the jobs are grouped. */
type Grouping = "none" | "small batches" | "one batch";

/** The runs compared, each in a namespace of this benchmark's own. */
const RUNS: readonly { step: string; namespace: string; grouping: Grouping }[] = [
  { step: "08", namespace: "bench14_vs08", grouping: "none" },
  { step: "14", namespace: "bench14_none", grouping: "none" },
  { step: "14", namespace: "bench14_small", grouping: "small batches" },
  { step: "14", namespace: "bench14_one", grouping: "one batch" },
];

interface RunResult {
  readonly enqueuePerSecond: number;
  readonly processPerSecond: number;
  readonly missing: number;
  readonly duplicates: number;
  /**
   * How many of the worker's connections were waiting for a lock, on
   * average over the run (sampled from pg_stat_activity): the hot row,
   * measured.
   */
  readonly waitingOnLocks: number;
  /** Batches that completed, and callbacks enqueued (one onFinish per batch). */
  readonly batchesCompleted: number;
  readonly callbacks: number;
}

export async function runBenchmark({
  open,
  out,
  quick,
  saveResults,
  saveChart,
}: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 14 benchmark — what a batch costs, against step 08");
  say(
    out,
    `${formatNumber(settings.jobs)} no-op jobs, one worker with ${settings.concurrency} slots, ` +
      `on step 08 and on step 14: without batches, in ${formatNumber(settings.jobs / settings.smallBatch)} ` +
      `batches of ${settings.smallBatch}, and in one batch of ${formatNumber(settings.jobs)}, every ` +
      "batch sealed before the worker starts, with a Noop as its onFinish. A job of a batch is " +
      "finished in a transaction that also updates its batch's row; in one batch, the " +
      `${settings.concurrency} slots' finishes all update the same row, and wait for each other's ` +
      `commits. ${settings.rounds} round(s), interleaved, median reported.`,
  );
  const instances = await Promise.all(
    RUNS.map((run) => open({ step: run.step, namespace: run.namespace })),
  );
  const results: RunResult[][] = RUNS.map(() => []);
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, run] of RUNS.entries()) {
        const instance = instances[index];
        if (!instance) continue;
        out.line(`  round ${round + 1}: step ${run.step}, ${run.grouping}…`);
        results[index]?.push(await measure(instance, run.grouping, settings));
      }
    }
  } finally {
    await Promise.all(instances.map((instance) => instance.close()));
  }
  const medianOf = (index: number, pick: (result: RunResult) => number) =>
    median((results[index] ?? []).map(pick));
  const baseline = medianOf(0, (result) => result.processPerSecond);
  const label = (run: (typeof RUNS)[number]) =>
    `${run.step} ${run.grouping === "none" ? "no batches" : run.grouping}`;
  out.line("");
  for (const line of renderTable(
    [
      "run",
      "enqueue jobs/s",
      "jobs/s",
      "vs 08",
      "waiting on a lock",
      "batches done",
      "callbacks",
      "missing",
      "twice",
    ],
    RUNS.map((run, index) => {
      const jobsPerSecond = medianOf(index, (result) => result.processPerSecond);
      return [
        label(run),
        formatNumber(medianOf(index, (result) => result.enqueuePerSecond)),
        formatNumber(jobsPerSecond),
        `×${(jobsPerSecond / baseline).toFixed(2)}`,
        medianOf(index, (result) => result.waitingOnLocks).toFixed(2),
        formatNumber(medianOf(index, (result) => result.batchesCompleted)),
        formatNumber(medianOf(index, (result) => result.callbacks)),
        formatNumber(medianOf(index, (result) => result.missing)),
        formatNumber(medianOf(index, (result) => result.duplicates)),
      ];
    }),
  )) {
    out.line(`  ${line}`);
  }
  say(
    out,
    "A job of a batch costs a transaction (BEGIN, the finish, the batch's UPDATE, COMMIT: four " +
      "round trips where a job without one needs one statement) and a row lock held until the " +
      "commit. Many small batches pay the round trips; one big batch pays them and the hot row " +
      "too: a finish waits for the commit of the one before it on that row. 'Waiting on a " +
      "lock' is how many of the worker's connections were doing that, on average. Batches of " +
      "10 share the cost here: the claim takes jobs in id order, so the 10 slots hold the 10 " +
      "jobs of one batch at once. What to do about it: count finishes in the worker and apply them to the batch " +
      "row in one UPDATE per flush (pending = pending - k: step 10's batched finish), or spread " +
      "the count over a few counter rows per batch and lock the batch row only when they add " +
      "up to zero. Both keep the one rule: the count moves in the transaction that records the " +
      "outcome.",
  );
  await saveResults("step-14", settings, {
    runs: RUNS.map((run) => ({ step: run.step, grouping: run.grouping })),
    results,
  });
  await saveChart("batches.svg", {
    title: `${formatNumber(settings.jobs)} no-op jobs, 10 slots: jobs per second`,
    valueLabel: "jobs/s",
    categories: RUNS.map((run, index) => ({
      label: label(run),
      axisLabel: `${run.step}: ${run.grouping === "none" ? "no batches" : run.grouping}`,
      colour: ["#4e79a7", "#59a14f", "#f28e2b", "#e15759"][index] ?? "#888",
      highlight: run.grouping === "one batch",
    })),
    series: [
      {
        label: "jobs/s",
        values: RUNS.map((_, index) => medianOf(index, (result) => result.processPerSecond)),
      },
    ],
  });
}

async function measure(
  instance: StepInstance,
  grouping: Grouping,
  settings: Settings,
): Promise<RunResult> {
  await instance.reset();
  const tracker = new RunTracker(instance.events);
  const enqueueStart = performance.now();
  const ids = await enqueue(instance, grouping, settings);
  const enqueueSeconds = (performance.now() - enqueueStart) / 1000;
  const processStart = performance.now();
  const worker = instance.startWorker({ concurrency: settings.concurrency });
  const locks = sampleLockWaits(instance);
  await tracker.waitForAll(ids, settings.timeoutMs);
  const processSeconds = (performance.now() - processStart) / 1000;
  const waitingOnLocks = await locks.stop();
  await worker.stop();
  tracker.stop();
  const check = tracker.check(ids);
  const batches = (await instance.batches?.list()) ?? [];
  return {
    enqueuePerSecond: settings.jobs / enqueueSeconds,
    processPerSecond: check.completed / processSeconds,
    missing: check.missing,
    duplicates: check.duplicates,
    waitingOnLocks,
    batchesCompleted: batches.filter((batch) => batch.completedAt !== null).length,
    callbacks: batches.reduce((sum, batch) => sum + batch.callbacksFired.length, 0),
  };
}

/**
 * Every 20 ms, how many of the instance's connections (its pool's
 * application_name is its namespace) are waiting for a lock — in these
 * runs, a finish waiting for another's commit on a batch row. Resolves with
 * the mean when stopped.
 */
function sampleLockWaits(instance: StepInstance): { stop(): Promise<number> } {
  const database = instance.database;
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running && database) {
      const [row] = await database.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity
         WHERE application_name = $1 AND wait_event_type = 'Lock'`,
        [instance.namespace],
      );
      samples.push(row?.waiting ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples.length === 0 ? 0 : samples.reduce((a, b) => a + b, 0) / samples.length;
    },
  };
}

/** Enqueues the jobs as `grouping` says, and seals every batch; resolves with the jobs' ids. */
async function enqueue(
  instance: StepInstance,
  grouping: Grouping,
  settings: Settings,
): Promise<string[]> {
  const noops = (count: number): NewJob[] =>
    Array.from({ length: count }, () => ({ name: "Noop", args: {} }));
  const ids: string[] = [];
  if (grouping === "none") {
    for (let offset = 0; offset < settings.jobs; offset += settings.chunk) {
      ids.push(...(await instance.enqueueMany(noops(settings.chunk))));
    }
    return ids;
  }
  const batches = instance.batches;
  if (!batches) throw new Error(`Step ${instance.step.id} has no batches.`);
  const size = grouping === "one batch" ? settings.jobs : settings.smallBatch;
  for (let offset = 0; offset < settings.jobs; offset += size) {
    const batch = await batches.create({ onFinish: "Noop" });
    for (let added = 0; added < size; added += settings.chunk) {
      ids.push(...(await batches.add(batch, noops(Math.min(settings.chunk, size - added)))));
    }
    await batches.seal(batch);
  }
  return ids;
}

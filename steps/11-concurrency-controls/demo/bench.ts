/**
 * `npm run step 11 -- bench`: what concurrency keys cost, against step 08
 * in the same run — jobs with no key (the claim and finish of 08, plus a
 * column), 1,000 keys of limit 1, and one hot key — with the wait from a
 * slot freed to the next job of its key running, and the most jobs of one
 * key seen at once.
 *
 * @module
 */
import { now } from "../../../lib/events.ts";
import type { NewJob, StepInstance } from "../../../lib/step.ts";
import { progressReporter } from "../../../lib/workshop/bench/progress.ts";
import { type RunCheck, RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import { median, percentile } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, formatRatio, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

interface Settings {
  readonly jobs: number;
  readonly concurrency: number;
  /** How many keys the many-keys scenario spreads its jobs over, each with limit 1. */
  readonly keys: number;
  /** The hot key's limit: the worker's slots, so the limit itself holds nothing back. */
  readonly hotLimit: number;
  /** The hot key's jobs: fewer, as they run several times slower than the rest. */
  readonly hotJobs: number;
  readonly rounds: number;
  readonly timeoutMs: number;
}

const FULL: Settings = {
  jobs: 10_000,
  concurrency: 10,
  keys: 1_000,
  hotLimit: 10,
  hotJobs: 2_000,
  rounds: 3,
  timeoutMs: 300_000,
};
const QUICK: Settings = {
  ...FULL,
  jobs: 500,
  keys: 50,
  hotJobs: 200,
  rounds: 1,
  timeoutMs: 60_000,
};

/** One scenario: which step, how many jobs, and the key of job `i` (none: no key). */
interface Scenario {
  readonly label: string;
  readonly step: "08" | "11";
  readonly jobs: number;
  readonly limitOf: (i: number) => { key: string; limit: number } | undefined;
}

function scenarios(settings: Settings): Scenario[] {
  return [
    { label: "no keys", step: "08", jobs: settings.jobs, limitOf: () => undefined },
    { label: "no keys", step: "11", jobs: settings.jobs, limitOf: () => undefined },
    {
      label: `${formatNumber(settings.keys)} keys, limit 1`,
      step: "11",
      jobs: settings.jobs,
      limitOf: (i) => ({ key: `account:${i % settings.keys}`, limit: 1 }),
    },
    {
      label: `1 hot key, limit ${settings.hotLimit}`,
      step: "11",
      jobs: settings.hotJobs,
      limitOf: () => ({ key: "account:hot", limit: settings.hotLimit }),
    },
  ];
}

interface Measured {
  readonly jobsPerSecond: number;
  /** From the previous job of its key finishing to this one starting, for jobs that waited. */
  readonly waitsMs: readonly number[];
  /** The most jobs of one key running at once, and that key's limit. */
  readonly mostAtOnce: number;
  readonly limit: number;
  readonly check: RunCheck;
}

export async function runBenchmark({ open, out, quick, saveResults }: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  const chosen = scenarios(settings);
  heading(out, "Step 11 benchmark — what concurrency keys cost, against step 08");
  say(
    out,
    `${formatNumber(settings.jobs)} no-op jobs enqueued in bulk (${formatNumber(settings.hotJobs)} ` +
      `for the hot key), then one worker with ` +
      `${settings.concurrency} slots drains them: with no key on 08 and on 11; spread over ` +
      `${formatNumber(settings.keys)} keys of limit 1 (${formatNumber(settings.jobs / settings.keys)} ` +
      `jobs each, one at a time); all on one hot key of limit ${settings.hotLimit}, as many as ` +
      "the worker has slots, so the limit holds nothing back and what is left is the cost of the " +
      "key's row. Missing: not done when the scenario timed out. Blocked → running: from the previous job of a key finishing (the transaction " +
      "that frees its slot and admits the next) to the next one starting. " +
      `${settings.rounds} round(s), interleaved, median reported.`,
  );
  const instances = {
    "08": await open({ step: "08", namespace: "bench11_vs08" }),
    "11": await open({ namespace: "bench11" }),
  };
  const results: Measured[][] = chosen.map(() => []);
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, scenario] of chosen.entries()) {
        out.line(`  round ${round + 1}: ${scenario.label} on step ${scenario.step}…`);
        results[index]?.push(await measure(instances[scenario.step], scenario, settings));
      }
    }
  } finally {
    await Promise.all(Object.values(instances).map((instance) => instance.close()));
  }
  const rateOf = (index: number) => median((results[index] ?? []).map((r) => r.jobsPerSecond));
  const baseline = rateOf(0);
  const rows = chosen.map((scenario, index) => {
    const runs = results[index] ?? [];
    const waits = runs.flatMap((run) => run.waitsMs);
    const most = Math.max(...runs.map((run) => run.mostAtOnce));
    const checks = runs.map((run) => run.check);
    return [
      scenario.label,
      scenario.step,
      formatNumber(rateOf(index)),
      formatRatio(rateOf(index), baseline),
      waits.length === 0 ? "—" : `${formatNumber(percentile(waits, 50))} ms`,
      waits.length === 0 ? "—" : `${formatNumber(percentile(waits, 99))} ms`,
      scenario.limitOf(0) === undefined ? "—" : `${most} of ${runs[0]?.limit ?? 0}`,
      `${sum(checks.map((check) => check.missing))} / ${sum(checks.map((check) => check.duplicates))}`,
    ];
  });
  out.line("");
  for (const line of renderTable(
    [
      "scenario",
      "step",
      "jobs/s",
      "vs 08",
      "blocked → running p50",
      "p99",
      "most of a key at once",
      "missing / twice",
    ],
    rows,
  ))
    out.line(`  ${line}`);
  say(
    out,
    "A job with no key costs what it cost in step 08: its claim and its finish are the same " +
      "one statement each. A job with a key finishes in a transaction of five round trips — " +
      "BEGIN, lock the key's row, the finish, admit the next, COMMIT — instead of one. With " +
      "many keys, blocked → running is mostly a wait in line: the admission is in the commit " +
      "that frees the slot, but every key has a job ready, and the one just admitted queues " +
      "behind the other keys' for a free slot of the worker. One hot key adds waiting of its " +
      "own: every finish of its jobs queues for the same row's lock and holds it until its " +
      "commit is on disk, so its jobs finish one commit at a time.",
  );
  await saveResults("step-11", settings, {
    scenarios: chosen.map(({ label, step }) => ({ label, step })),
    results: results.map((runs) =>
      runs.map(({ waitsMs, ...rest }) => ({
        ...rest,
        waitP50Ms: waitsMs.length === 0 ? null : percentile(waitsMs, 50),
        waitP99Ms: waitsMs.length === 0 ? null : percentile(waitsMs, 99),
      })),
    ),
  });
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Enqueues the scenario's jobs, then times one worker draining them, watching each key. */
async function measure(
  instance: StepInstance,
  scenario: Scenario,
  settings: Settings,
): Promise<Measured> {
  await instance.reset();
  const jobs: NewJob[] = Array.from({ length: scenario.jobs }, (_, i) => {
    const concurrency = scenario.limitOf(i);
    return { name: "Noop", args: { i }, ...(concurrency ? { concurrency } : {}) };
  });
  const ids: string[] = [];
  for (let start = 0; start < jobs.length; start += 1_000) {
    ids.push(...(await instance.enqueueMany(jobs.slice(start, start + 1_000))));
  }
  const keyOf = new Map(ids.map((id, i) => [id, scenario.limitOf(i)?.key]));
  const watch = watchKeys(instance, keyOf);
  const tracker = new RunTracker(instance.events);
  const started = now();
  const worker = instance.startWorker({ concurrency: settings.concurrency });
  const progress = progressReporter(`${scenario.label} on step ${scenario.step}`);
  await tracker.waitForAll(ids, settings.timeoutMs, progress.update);
  const seconds = (now() - started) / 1000;
  progress.done();
  await worker.stop();
  tracker.stop();
  watch.stop();
  const check = tracker.check(ids);
  return {
    jobsPerSecond: check.completed / seconds,
    waitsMs: watch.waitsMs,
    mostAtOnce: watch.mostAtOnce(),
    limit: scenario.limitOf(0)?.limit ?? 0,
    check,
  };
}

/**
 * Follows the jobs of each key through the events: how many run at once,
 * and, for each job that started after another of its key had finished,
 * how long after.
 */
function watchKeys(instance: StepInstance, keyOf: ReadonlyMap<string, string | undefined>) {
  const running = new Map<string, number>();
  const lastFinished = new Map<string, number>();
  const waitsMs: number[] = [];
  let most = 0;
  const offs = [
    instance.events.on("started", ({ jobId, at }) => {
      const key = keyOf.get(jobId);
      if (key === undefined) return;
      const now = (running.get(key) ?? 0) + 1;
      running.set(key, now);
      most = Math.max(most, now);
      const freed = lastFinished.get(key);
      if (freed !== undefined) waitsMs.push(Math.max(0, at - freed));
    }),
    instance.events.on("finished", ({ jobId, at }) => {
      const key = keyOf.get(jobId);
      if (key === undefined) return;
      running.set(key, (running.get(key) ?? 0) - 1);
      lastFinished.set(key, at);
    }),
  ];
  return {
    waitsMs,
    mostAtOnce: () => most,
    stop: () => {
      for (const off of offs) off();
    },
  };
}

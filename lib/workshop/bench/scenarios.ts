/**
 * The standard scenarios every step runs, so that steps can be compared on
 * the same terms (docs/architecture.md, "Benchmarks"). Each returns its numbers and a
 * {@link RunCheck} of what actually ran.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { now } from "../../events.ts";
import type { StepInstance } from "../../step.ts";
import { asBenchQueue, type BenchQueue, benchQueueOf } from "./bench-queue.ts";
import { progressReporter } from "./progress.ts";
import { type RunCheck, RunTracker, sumChecks } from "./run-tracker.ts";
import { median, percentile } from "./statistics.ts";

/** The sizes of every scenario; `--quick` shrinks them so CI runs them in seconds. */
export interface ScenarioSizes {
  readonly throughputJobs: number;
  readonly throughputConcurrency: number;
  /**
   * How many times throughput is measured, each from an empty queue; the
   * table shows the median. One run on this kind of machine can be a third
   * off (two cores shared with the database; the first run of a process is
   * often the slowest), and one outlier would decide a ratio between queues.
   */
  readonly throughputRuns: number;
  /**
   * How many throughput runs of each queue come first and are not measured:
   * their jobs are checked like the others', their rates and CPU left out.
   * A queue's first runs in a process pay for V8 compiling and optimizing
   * the code its jobs go through, and queues measured one after another do
   * not pay for it alike: graphile-worker batched runs after
   * graphile-worker and shares its library code, warm by then, while each
   * step's code is a copy of its own, cold when its turn comes. Measured
   * with step 10 and graphile-worker batched, three runs each in a fresh
   * process, three times: the first run cost 1.2 to 2 times the worker CPU
   * per job of the third, for both. Rejected: a fresh process per queue —
   * every queue cold, which a worker that runs for days is not.
   */
  readonly throughputWarmupRuns: number;
  readonly latencyJobs: number;
  readonly latencyGapMs: number;
  readonly historyFinishedJobs: number;
  readonly historyDequeuedJobs: number;
  readonly idleSeconds: number;
  /** Longest a scenario waits for its jobs before it reports the missing ones. */
  readonly timeoutMs: number;
}

export const FULL_SIZES: ScenarioSizes = {
  throughputJobs: 10_000,
  throughputConcurrency: 10,
  throughputRuns: 3,
  throughputWarmupRuns: 1,
  latencyJobs: 200,
  latencyGapMs: 20,
  historyFinishedJobs: 100_000,
  historyDequeuedJobs: 1_000,
  idleSeconds: 5,
  timeoutMs: 300_000,
};

export const QUICK_SIZES: ScenarioSizes = {
  throughputJobs: 500,
  throughputConcurrency: 10,
  throughputRuns: 1,
  throughputWarmupRuns: 0,
  latencyJobs: 20,
  latencyGapMs: 20,
  historyFinishedJobs: 5_000,
  historyDequeuedJobs: 100,
  idleSeconds: 1,
  timeoutMs: 60_000,
};

/**
 * How the throughput column was measured, for the notes under a table:
 * "the median of 3 runs, after 1 warm-up run".
 */
export function runsOf(sizes: ScenarioSizes): string {
  const runs =
    sizes.throughputRuns === 1 ? "one run" : `the median of ${sizes.throughputRuns} runs`;
  const warmups = sizes.throughputWarmupRuns;
  return warmups === 0 ? runs : `${runs}, after ${warmups} warm-up run${warmups === 1 ? "" : "s"}`;
}

/** How many no-op jobs go into one INSERT (one `enqueueNoops` call) when enqueuing in bulk. */
const ENQUEUE_BATCH = 1_000;

export interface ThroughputResult {
  readonly enqueuePerSecond: number;
  readonly processPerSecond: number;
  /**
   * CPU time (user + system) this process spent from the worker's start to
   * its stop, in seconds; see {@link measureThroughput} for what it holds.
   */
  readonly workerCpuSeconds: number;
  readonly check: RunCheck;
}

/**
 * Enqueues `jobs` no-op jobs in bulk, then times one worker with
 * `concurrency` slots draining them.
 *
 * The worker runs in this process, so its CPU is this process's CPU
 * (`process.cpuUsage`) from the moment it is started to the moment its stop
 * resolves: its loop, the database or Redis driver's encoding and parsing,
 * the `started` / `finished` events the tracker counts (the same for every
 * queue), the garbage collector, and whatever the queue does while it stops:
 * graphile-worker writes its last completions there (it does not wait for
 * them before it reports a job done), which is why the stop is inside the
 * CPU measure, though not inside the timing of jobs/s. Not in it: the
 * enqueue before, and the servers' own CPU — PostgreSQL's, or Redis's, where
 * BullMQ's Lua scripts run.
 *
 * The worker's start-up is inside both measures, for every queue: each has
 * one (a pool to open, a process to register, migrations to check), a tenth
 * of a second or more before its first job starts. Timing from the first
 * job's start instead was tried and rejected: it leaves out a batching
 * queue's first fetch, which at `--quick` sizes is the whole run.
 */
export async function measureThroughput(
  target: StepInstance | BenchQueue,
  jobs: number,
  concurrency: number,
  timeoutMs: number,
  /** What the progress line calls this run. */
  runName = "throughput",
): Promise<ThroughputResult> {
  const queue = asBenchQueue(target);
  const tracker = new RunTracker(queue.events);
  const enqueueStart = now();
  const ids = await enqueueNoops(queue, jobs);
  const enqueueSeconds = (now() - enqueueStart) / 1000;

  const cpuBefore = process.cpuUsage();
  const processStart = now();
  const worker = await queue.startWorker(concurrency);
  const progress = progressReporter(`${queue.label} ${runName}`);
  await tracker.waitForAll(ids, timeoutMs, progress.update);
  const processSeconds = (now() - processStart) / 1000;
  progress.done();
  await worker.stop();
  const cpu = process.cpuUsage(cpuBefore);
  tracker.stop();
  const check = tracker.check(ids);
  return {
    enqueuePerSecond: jobs / enqueueSeconds,
    processPerSecond: check.completed / processSeconds,
    workerCpuSeconds: (cpu.user + cpu.system) / 1e6,
    check,
  };
}

/**
 * Several throughput runs of one queue as one result: the median of each
 * rate, and the CPU and the check of all the runs together — every job of
 * every run must have run once, and CPU per job is over all of them.
 */
export function combineRuns(runs: readonly ThroughputResult[]): ThroughputResult {
  return {
    enqueuePerSecond: median(runs.map((run) => run.enqueuePerSecond)),
    processPerSecond: median(runs.map((run) => run.processPerSecond)),
    workerCpuSeconds: runs.reduce((sum, run) => sum + run.workerCpuSeconds, 0),
    check: sumChecks(runs.map((run) => run.check)),
  };
}

/** Worker CPU seconds per 10,000 jobs run: comparable between runs of different sizes. */
export function cpuSecondsPer10kJobs(result: ThroughputResult): number {
  return result.check.completed > 0
    ? (result.workerCpuSeconds / result.check.completed) * 10_000
    : Number.NaN;
}

export interface LatencyResult {
  /** Pickup latency's percentiles, timed as `from` asked. */
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /**
   * The median timed from the enqueue call, whatever `from` asked: what a
   * caller waits from asking for a job to its start, the enqueue's own time
   * included. The standard table shows it beside the percentiles timed from
   * the commit, which show the worker's side alone; one run gives both, as
   * each job's call and return are timed alike.
   */
  readonly p50FromCallMs: number;
  readonly check: RunCheck;
}

/**
 * An idle worker; jobs enqueued one at a time, `gapMs` apart. Pickup latency
 * is from the moment the enqueue committed (its call returned) to the moment
 * `perform` started — or, with `from: "call"`, from the moment enqueue was
 * called, which adds the enqueue's own time. That is the fair measure against
 * Redis, where the worker's BRPOP reply and the LPUSH's reply leave the server
 * together and the job often starts before the enqueue call returns.
 * (A step's benchmark that times what an enqueue option costs passes
 * `benchQueueOf(instance, options)`.)
 */
export async function measurePickupLatency(
  target: StepInstance | BenchQueue,
  jobs: number,
  gapMs: number,
  timeoutMs: number,
  from: "commit" | "call" = "commit",
): Promise<LatencyResult> {
  const queue = asBenchQueue(target);
  const tracker = new RunTracker(queue.events);
  const worker = await queue.startWorker(1);
  await sleep(200); // let the worker reach its idle state first
  const enqueuedAt = new Map<string, { readonly call: number; readonly commit: number }>();
  for (let i = 0; i < jobs; i++) {
    const call = now();
    const id = await queue.enqueueNoop();
    enqueuedAt.set(id, { call, commit: now() });
    await sleep(gapMs);
  }
  const ids = [...enqueuedAt.keys()];
  await tracker.waitForAll(ids, timeoutMs);
  await worker.stop();
  tracker.stop();
  const latenciesFrom = (origin: "commit" | "call") =>
    ids.flatMap((id) => {
      const started = tracker.firstStart(id);
      const enqueued = enqueuedAt.get(id);
      return started !== undefined && enqueued !== undefined
        ? [Math.max(0, started - enqueued[origin])]
        : [];
    });
  const latencies = latenciesFrom(from);
  return {
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    p50FromCallMs: percentile(latenciesFrom("call"), 50),
    check: tracker.check(ids),
  };
}

export interface HistoryResult {
  readonly finishedJobs: number;
  readonly dequeuePerSecond: number;
  readonly check: RunCheck;
}

/**
 * How fast one worker (one slot) takes jobs when `finishedJobs` finished jobs
 * are already in the tables, as after months of use.
 */
export async function measureDequeueWithHistory(
  instance: StepInstance,
  finishedJobs: number,
  jobs: number,
  timeoutMs: number,
): Promise<HistoryResult> {
  if (finishedJobs > 0) await instance.fillHistory(finishedJobs);
  const tracker = new RunTracker(instance.events);
  const ids = await enqueueNoops(benchQueueOf(instance), jobs);
  const start = now();
  const worker = instance.startWorker({ concurrency: 1 });
  const progress = progressReporter(
    `step ${instance.step.id} with ${finishedJobs.toLocaleString("en-US")} finished jobs`,
  );
  await tracker.waitForAll(ids, timeoutMs, progress.update);
  const seconds = (now() - start) / 1000;
  progress.done();
  await worker.stop();
  tracker.stop();
  const check = tracker.check(ids);
  return { finishedJobs, dequeuePerSecond: check.completed / seconds, check };
}

export interface IdleLoadResult {
  readonly statementsPerSecond: number;
}

/** Statements per second one idle worker sends while there is nothing to do. */
export async function measureIdleLoad(
  instance: StepInstance,
  seconds: number,
): Promise<IdleLoadResult> {
  const worker = instance.startWorker({ concurrency: 1 });
  await sleep(300); // start-up statements (LISTEN, registration) are not idle load
  const before = instance.statementsSent();
  const start = now();
  await sleep(seconds * 1000);
  const sent = instance.statementsSent() - before;
  const elapsed = (now() - start) / 1000;
  await worker.stop();
  return { statementsPerSecond: sent / elapsed };
}

async function enqueueNoops(queue: BenchQueue, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; offset < count; offset += ENQUEUE_BATCH) {
    ids.push(...(await queue.enqueueNoops(Math.min(ENQUEUE_BATCH, count - offset))));
  }
  return ids;
}

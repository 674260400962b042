/**
 * `npm run step 10 -- bench`: where the limit is and how batching moves it,
 * against step 08 in the same run — the machine's commit rate; throughput,
 * statements per job and pickup latency over a grid of batch size × flush
 * delay; what one enqueue, and a thousand, cost against a bare INSERT; and
 * what a kill -9 costs: the jobs it sends back, against 08's.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { now } from "../../../lib/events.ts";
import type { Database } from "../../../lib/postgres/database.ts";
import type { StepInstance } from "../../../lib/step.ts";
import { type BenchQueue, benchQueueOf } from "../../../lib/workshop/bench/bench-queue.ts";
import { runWorkerAndKill } from "../../../lib/workshop/bench/kill-worker.ts";
import { RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import {
  cpuSecondsPer10kJobs,
  measurePickupLatency,
  measureThroughput,
} from "../../../lib/workshop/bench/scenarios.ts";
import { median, percentile } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, formatRatio, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

interface Settings {
  /** How long each commit-rate measurement sends commits for. */
  readonly commitSeconds: number;
  readonly throughputJobs: number;
  readonly concurrency: number;
  readonly latencyJobs: number;
  readonly latencyGapMs: number;
  readonly batchSizes: readonly number[];
  readonly flushDelaysMs: readonly number[];
  /** Single enqueue calls timed, and jobs enqueued in bulk (1,000 per call). */
  readonly enqueueCalls: number;
  readonly bulkJobs: number;
  /** The crash: Sleep jobs, killed once this many finished. */
  readonly crashJobs: number;
  readonly crashSleepMs: number;
  readonly killAfterFinished: number;
  readonly rounds: number;
  readonly timeoutMs: number;
}

/** Jobs per enqueue call, and rows per bare INSERT, when enqueuing in bulk. */
const BULK_PER_CALL = 1_000;

const FULL: Settings = {
  commitSeconds: 3,
  throughputJobs: 10_000,
  concurrency: 10,
  latencyJobs: 200,
  latencyGapMs: 20,
  batchSizes: [1, 10, 100, 500],
  flushDelaysMs: [0, 5, 50],
  enqueueCalls: 500,
  bulkJobs: 50_000,
  crashJobs: 1_000,
  crashSleepMs: 20,
  killAfterFinished: 200,
  rounds: 3,
  timeoutMs: 300_000,
};
const QUICK: Settings = {
  ...FULL,
  commitSeconds: 0.3,
  throughputJobs: 1_000,
  latencyJobs: 10,
  enqueueCalls: 50,
  bulkJobs: 5_000,
  crashJobs: 200,
  killAfterFinished: 40,
  rounds: 1,
};

/** One configuration of the grid, or step 08 (no settings: it has none of these). */
interface Configuration {
  readonly label: string;
  readonly instance: StepInstance;
  readonly batchSize?: number;
  readonly flushDelayMs?: number;
}

/** What one configuration measured, medians over the rounds. */
interface Measured {
  readonly label: string;
  readonly jobsPerSecond: number;
  /** Statements sent while the jobs ran, per job: each one a transaction, so a commit. */
  readonly statementsPerJob: number;
  readonly cpuPer10k: number;
  readonly pickupP50Ms: number;
  readonly pickupP99Ms: number;
}

export async function runBenchmark({
  open,
  out,
  quick,
  saveResults,
  saveChart,
}: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 10 benchmark — the commit limit, and batching past it; against 08");
  const base = await open({ step: "08", namespace: "bench10_vs08" });
  const batched = await open({ namespace: "bench10" });
  try {
    const commits = await measureCommitRate(out, batched, settings);
    const grid = await measureGrid(out, base, batched, settings);
    const enqueue = await measureEnqueue(out, base, batched, settings);
    const crash = await compareCrashes(out, base, batched, settings);
    await saveResults("step-10", settings, { commits, grid, enqueue, crash });
    await saveChart("throughput-grid.svg", {
      title: "Jobs per second: step 08, and step 10 by batch size b and flush delay d ms",
      valueLabel: "jobs per second",
      categories: grid.map((row, index) => ({
        label: row.label,
        // Under its bar, what tells the bars apart: "08", "b1 d0", …
        axisLabel: row.label.replace(/^10 /, ""),
        colour: index === 0 ? "#4e79a7" : "#e15759",
        highlight: index > 0 && row.jobsPerSecond === Math.max(...grid.map((r) => r.jobsPerSecond)),
      })),
      series: [{ label: "jobs/s", values: grid.map((row) => row.jobsPerSecond) }],
      // One entry per colour: a dozen entries of one red would only repeat the axis.
      legend: [
        { label: "08 recovery", colour: "#4e79a7" },
        { label: "10 throughput", colour: "#e15759" },
      ],
    });
  } finally {
    await Promise.all([base.close(), batched.close()]);
  }
}

/**
 * The wall: how many commits a second this machine's PostgreSQL makes, as
 * `pgbench` would measure it — single-row INSERTs, each its own
 * transaction, from one connection and from ten at once (ten commits that
 * arrive together share one flush of the WAL: group commit).
 */
async function measureCommitRate(
  out: RunContext["out"],
  instance: StepInstance,
  settings: Settings,
): Promise<{ oneConnection: number; tenConnections: number }> {
  const database = databaseOf(instance);
  await database.query("CREATE TABLE IF NOT EXISTS commit_probe (id bigserial PRIMARY KEY)");
  const commitsFrom = async (connections: number): Promise<number> => {
    const end = now() + settings.commitSeconds * 1000;
    let commits = 0;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (now() < end) {
          await database.query("INSERT INTO commit_probe DEFAULT VALUES");
          commits++;
        }
      }),
    );
    return commits / settings.commitSeconds;
  };
  out.line("  commit rate…");
  const oneConnection = await commitsFrom(1);
  const tenConnections = await commitsFrom(10);
  await database.query("DROP TABLE commit_probe");
  say(
    out,
    `The wall: this machine commits ${formatNumber(oneConnection)} transactions a second one ` +
      `after another, ${formatNumber(tenConnections)} from ten connections at once (group ` +
      "commit: commits that wait together share one flush to disk). A queue that spends k " +
      "commits per job runs at most commits/s ÷ k jobs a second; step 08 spends two (claim, " +
      "finish), and the grid below shows how many step 10 spends.",
  );
  return { oneConnection, tenConnections };
}

/**
 * Step 08, then step 10 at each batch size × flush delay: throughput (with
 * statements per job and worker CPU) and pickup latency, interleaved over
 * the rounds, medians reported.
 */
async function measureGrid(
  out: RunContext["out"],
  base: StepInstance,
  batched: StepInstance,
  settings: Settings,
): Promise<Measured[]> {
  const configurations: Configuration[] = [
    { label: "08", instance: base },
    ...settings.batchSizes.flatMap((batchSize) =>
      settings.flushDelaysMs.map((flushDelayMs) => ({
        label: `10 b${batchSize} d${flushDelayMs}`,
        instance: batched,
        batchSize,
        flushDelayMs,
      })),
    ),
  ];
  say(
    out,
    `Throughput: ${formatNumber(settings.throughputJobs)} no-op jobs, one worker with ` +
      `${settings.concurrency} slots; pickup: ${settings.latencyJobs} jobs ` +
      `${settings.latencyGapMs} ms apart to an idle worker, from the enqueue call. Step 10 ` +
      `at batch size b ∈ {${settings.batchSizes.join(", ")}} × flush delay d ∈ ` +
      `{${settings.flushDelaysMs.join(", ")}} ms. Statements per job: those sent while the ` +
      "jobs ran, each its own transaction (one commit). " +
      `${settings.rounds} round(s), interleaved, median.`,
  );
  const rounds: Measured[][] = configurations.map(() => []);
  for (let round = 0; round < settings.rounds; round++) {
    for (const [index, configuration] of configurations.entries()) {
      out.line(`  round ${round + 1}: ${configuration.label}…`);
      rounds[index]?.push(await measureConfiguration(configuration, settings));
    }
  }
  const grid = configurations.map((configuration, index) => {
    const measured = rounds[index] ?? [];
    const medianOf = (pick: (m: Measured) => number) => median(measured.map(pick));
    return {
      label: configuration.label,
      jobsPerSecond: medianOf((m) => m.jobsPerSecond),
      statementsPerJob: medianOf((m) => m.statementsPerJob),
      cpuPer10k: medianOf((m) => m.cpuPer10k),
      pickupP50Ms: medianOf((m) => m.pickupP50Ms),
      pickupP99Ms: medianOf((m) => m.pickupP99Ms),
    };
  });
  const baseline = grid[0]?.jobsPerSecond ?? 0;
  out.line("");
  const table = renderTable(
    ["queue", "jobs/s", "vs 08", "statements/job", "CPU s/10k jobs", "pickup p50 / p99 ms"],
    grid.map((row) => [
      row.label,
      formatNumber(row.jobsPerSecond),
      formatRatio(row.jobsPerSecond, baseline),
      formatNumber(row.statementsPerJob),
      formatNumber(row.cpuPer10k),
      `${formatNumber(row.pickupP50Ms)} / ${formatNumber(row.pickupP99Ms)}`,
    ]),
  );
  for (const line of table) out.line(`  ${line}`);
  return grid;
}

async function measureConfiguration(
  configuration: Configuration,
  settings: Settings,
): Promise<Measured> {
  const { instance } = configuration;
  const queue = configuredQueue(configuration);
  await instance.reset();
  // Statements sent while the worker ran, not while the jobs were enqueued:
  // the worker's claims, finishes, heartbeats and LISTEN.
  let sentAtStart = 0;
  const counting: BenchQueue = {
    ...queue,
    startWorker: (concurrency) => {
      sentAtStart = instance.statementsSent();
      return queue.startWorker(concurrency);
    },
  };
  const throughput = await measureThroughput(
    counting,
    settings.throughputJobs,
    settings.concurrency,
    settings.timeoutMs,
  );
  const sent = instance.statementsSent() - sentAtStart;
  failOnMissing(configuration.label, throughput.check);
  await instance.reset();
  const latency = await measurePickupLatency(
    queue,
    settings.latencyJobs,
    settings.latencyGapMs,
    settings.timeoutMs,
    "call",
  );
  failOnMissing(configuration.label, latency.check);
  return {
    label: configuration.label,
    jobsPerSecond: throughput.processPerSecond,
    statementsPerJob: sent / throughput.check.completed,
    cpuPer10k: cpuSecondsPer10kJobs(throughput),
    pickupP50Ms: latency.p50Ms,
    pickupP99Ms: latency.p99Ms,
  };
}

/** The configuration's no-op queue, its worker started with its batch size and flush delay. */
function configuredQueue({ label, instance, batchSize, flushDelayMs }: Configuration): BenchQueue {
  return {
    ...benchQueueOf(instance),
    label,
    startWorker: async (concurrency) =>
      instance.startWorker({ concurrency, batchSize, flushDelayMs }),
  };
}

/**
 * One enqueue call against one bare `INSERT … RETURNING` (its own commit):
 * how close a one-statement enqueue gets to the least a durable write
 * costs. And jobs per second enqueued in bulk, 1,000 per call, against a
 * bare INSERT into the same table, 1,000 rows per statement: what one
 * connection writes into a narrow table with one index, one row per job,
 * where an enqueue writes two (the job and its ready row) and their index
 * entries.
 */
async function measureEnqueue(
  out: RunContext["out"],
  base: StepInstance,
  batched: StepInstance,
  settings: Settings,
): Promise<{ label: string; singleP50Ms: number; bulkPerSecond: number }[]> {
  out.line("  enqueue…");
  const timeCalls = async (call: () => Promise<unknown>): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < settings.enqueueCalls; i++) {
      const start = now();
      await call();
      times.push(now() - start);
    }
    return percentile(times, 50);
  };
  const bulkRate = async (insertBatch: () => Promise<unknown>): Promise<number> => {
    const start = now();
    for (let done = 0; done < settings.bulkJobs; done += BULK_PER_CALL) await insertBatch();
    return settings.bulkJobs / ((now() - start) / 1000);
  };
  const rows = [];
  for (const instance of [base, batched]) {
    await instance.reset();
    const queue = benchQueueOf(instance);
    rows.push({
      label: `step ${instance.step.id}`,
      singleP50Ms: await timeCalls(() => queue.enqueueNoop()),
      bulkPerSecond: await bulkRate(() => queue.enqueueNoops(BULK_PER_CALL)),
    });
  }
  // The least a durable write costs: one INSERT, its own commit; in bulk,
  // an INSERT of 1,000 rows into the same table, sent as the enqueue sends
  // its jobs (an array, unnest).
  const database = databaseOf(batched);
  await database.query("CREATE TABLE insert_probe (id bigserial PRIMARY KEY, body text)");
  const bodies = Array.from({ length: BULK_PER_CALL }, () => "{}");
  const bare = {
    label: "INSERT … RETURNING",
    singleP50Ms: await timeCalls(() =>
      database.query("INSERT INTO insert_probe (body) VALUES ($1) RETURNING id", ["{}"]),
    ),
    bulkPerSecond: await bulkRate(() =>
      database.query(
        {
          name: "insert_probe_bulk",
          text: "INSERT INTO insert_probe (body) SELECT unnest($1::text[]) RETURNING id",
        },
        [bodies],
      ),
    ),
  };
  rows.unshift(bare);
  await database.query("DROP TABLE insert_probe");
  say(
    out,
    `Enqueue: ${settings.enqueueCalls} single calls (p50), against a bare INSERT … RETURNING ` +
      `of one row, its own commit; and ${formatNumber(settings.bulkJobs)} jobs in bulk, 1,000 per call, ` +
      "against the same INSERT of 1,000 rows per statement (rows/s).",
  );
  const table = renderTable(
    ["enqueue", "one call p50 ms", "vs INSERT", "bulk jobs/s", "vs INSERT"],
    rows.map((row) => [
      row.label,
      formatNumber(row.singleP50Ms),
      formatRatio(row.singleP50Ms, bare.singleP50Ms),
      formatNumber(row.bulkPerSecond),
      formatRatio(row.bulkPerSecond, bare.bulkPerSecond),
    ]),
  );
  for (const line of table) out.line(`  ${line}`);
  return rows;
}

/** One kill -9, accounted for. */
interface CrashCost {
  /** Jobs the killed worker held claimed: buffered, running, or waiting for their outcome's write. */
  readonly held: number;
  /** Of those, started there and run again after the kill: the work done twice. */
  readonly ranTwice: number;
  /** Every job done once the healthy worker took over; 0 lost. */
  readonly lost: number;
  /** From the kill until every job was done. */
  readonly recoveryMs: number;
}

/**
 * A worker process with 10 slots killed with SIGKILL mid-run, step 08
 * against step 10 (its defaults): the jobs the dead worker held go back
 * through the retry path once it is found dead — a short alive threshold
 * here, and a short retry backoff, so the run takes seconds.
 */
async function compareCrashes(
  out: RunContext["out"],
  base: StepInstance,
  batched: StepInstance,
  settings: Settings,
): Promise<{ step: string; cost: CrashCost }[]> {
  const results = [];
  for (const instance of [base, batched]) {
    out.line(`  kill -9: step ${instance.step.id}…`);
    results.push({ step: instance.step.id, cost: await measureCrash(instance, settings) });
  }
  say(
    out,
    `kill -9: ${settings.crashJobs} jobs that sleep ${settings.crashSleepMs} ms, a worker ` +
      `process with ${settings.concurrency} slots killed once it finished ` +
      `${settings.killAfterFinished}; a healthy worker takes over (heartbeat 0.2 s, alive ` +
      "threshold 1 s, retry backoff 20 ms). Held: the jobs the dead worker held claimed, all " +
      "re-run; ran twice: those it had started.",
  );
  const table = renderTable(
    ["step", "held (re-run)", "ran twice", "lost", "recovery"],
    results.map(({ step, cost }) => [
      step,
      formatNumber(cost.held),
      formatNumber(cost.ranTwice),
      formatNumber(cost.lost),
      `${formatNumber(cost.recoveryMs / 1000)} s`,
    ]),
  );
  for (const line of table) out.line(`  ${line}`);
  return results;
}

const CRASH_WORKER_SETTINGS = {
  heartbeatIntervalMs: 200,
  aliveThresholdMs: 1_000,
  retryBackoff: { baseMs: 20, maxMs: 20, jitter: 0 },
};

async function measureCrash(instance: StepInstance, settings: Settings): Promise<CrashCost> {
  await instance.reset();
  const ids = await instance.enqueueMany(
    Array.from({ length: settings.crashJobs }, () => ({
      name: "Sleep",
      args: { ms: settings.crashSleepMs },
    })),
  );
  const { startedThere, killedAt } = await runWorkerAndKill(instance, {
    concurrency: settings.concurrency,
    killAfterFinished: settings.killAfterFinished,
    timeoutMs: settings.timeoutMs,
    args: ["--heartbeat-interval", "200", "--alive-threshold", "1000"],
  });
  const held = (await instance.counts()).claimed ?? 0;
  const tracker = new RunTracker(instance.events);
  const healthy = instance.startWorker({
    concurrency: settings.concurrency,
    ...CRASH_WORKER_SETTINGS,
  });
  const done = (counts: Readonly<Record<string, number>>) =>
    (counts.finished ?? 0) + (counts.failed ?? 0);
  const deadline = now() + settings.timeoutMs;
  let recoveryMs = Number.NaN;
  while (now() < deadline) {
    if (done(await instance.counts()) === ids.length) {
      recoveryMs = now() - killedAt;
      break;
    }
    await sleep(50);
  }
  await healthy.stop();
  tracker.stop();
  return {
    held,
    ranTwice: [...startedThere].filter((id) => tracker.firstStart(id) !== undefined).length,
    lost: ids.length - done(await instance.counts()),
    recoveryMs,
  };
}

function failOnMissing(label: string, check: { missing: number; duplicates: number }): void {
  if (check.missing > 0 || check.duplicates > 0) {
    throw new Error(`${label}: ${JSON.stringify(check)}`);
  }
}

function databaseOf(instance: StepInstance): Database {
  if (!instance.database) throw new Error(`step ${instance.step.id} has no database`);
  return instance.database;
}

/**
 * `npm run bench`: every step on the standard scenarios, in one run, in one
 * table — with `--peers`, production queues too, as reference rows.
 *
 * @module
 */

import type { Output, Step, StepInstance } from "../../step.ts";
import { type Cell, formatNumber, formatRatio, renderTable } from "../format.ts";
import type { Peer, PeerInstance } from "./peers/peer.ts";
import { type RunCheck, sumChecks } from "./run-tracker.ts";
import {
  combineRuns,
  cpuSecondsPer10kJobs,
  type HistoryResult,
  type IdleLoadResult,
  type LatencyResult,
  measureDequeueWithHistory,
  measureIdleLoad,
  measurePickupLatency,
  measureThroughput,
  type ScenarioSizes,
  type ThroughputResult,
} from "./scenarios.ts";

/** What every queue measured, step or peer: throughput and pickup latency. */
export interface SpeedResults {
  readonly throughput: ThroughputResult;
  /** What ran in the throughput warm-up runs, which are not measured but checked like the rest. */
  readonly warmupCheck: RunCheck;
  readonly latency: LatencyResult;
}

export interface StepResults extends SpeedResults {
  readonly step: string;
  readonly history: HistoryResult;
  readonly idle: IdleLoadResult;
}

/** Runs every scenario on every step, each scenario in a freshly reset namespace. */
export async function runStandardSuite(
  steps: readonly Step[],
  open: (step: Step) => Promise<StepInstance>,
  sizes: ScenarioSizes,
  out: Output,
): Promise<StepResults[]> {
  return measureEach(steps, open, async (instance, step) => {
    out.line(`step ${step.id} ${step.slug}: throughput, latency, history, idle load…`);
    const speed = await measureSpeed(instance, sizes);
    await instance.reset();
    const history = await measureDequeueWithHistory(
      instance,
      sizes.historyFinishedJobs,
      sizes.historyDequeuedJobs,
      sizes.timeoutMs,
    );
    await instance.reset();
    const idle = await measureIdleLoad(instance, sizes.idleSeconds);
    return { step: step.id, ...speed, history, idle };
  });
}

/**
 * What a peer measured: the scenarios every queue can be put through from
 * outside. History and idle load need a step's `fillHistory` and statement
 * counter, which a peer does not have.
 */
export interface PeerResults extends SpeedResults {
  /** The peer's name, e.g. `BullMQ 6.7.0 (reference)`. */
  readonly peer: string;
}

/** Runs throughput and pickup latency on every peer, each in a freshly reset namespace. */
export async function runPeers(
  peers: readonly Peer[],
  open: (peer: Peer) => Promise<PeerInstance>,
  sizes: ScenarioSizes,
  out: Output,
): Promise<PeerResults[]> {
  return measureEach(peers, open, async (instance, peer) => {
    out.line(`${peer.name}: throughput, latency…`);
    return { peer: peer.name, ...(await measureSpeed(instance, sizes)) };
  });
}

/** Opens each in turn, measures it, and closes it whether the measuring worked or not. */
async function measureEach<Subject, Instance extends { close(): Promise<void> }, Result>(
  subjects: readonly Subject[],
  open: (subject: Subject) => Promise<Instance>,
  measure: (instance: Instance, subject: Subject) => Promise<Result>,
): Promise<Result[]> {
  const results: Result[] = [];
  for (const subject of subjects) {
    const instance = await open(subject);
    try {
      results.push(await measure(instance, subject));
    } finally {
      await instance.close();
    }
  }
  return results;
}

/**
 * Throughput, then pickup latency, each from an empty queue: what every row
 * has. Throughput's warm-up runs come first (see `throughputWarmupRuns`).
 */
async function measureSpeed(
  queue: StepInstance | PeerInstance,
  sizes: ScenarioSizes,
): Promise<SpeedResults> {
  const throughputRun = async (name: string) => {
    await queue.reset();
    return measureThroughput(
      queue,
      sizes.throughputJobs,
      sizes.throughputConcurrency,
      sizes.timeoutMs,
      name,
    );
  };
  const warmups: RunCheck[] = [];
  for (let run = 0; run < sizes.throughputWarmupRuns; run++) {
    warmups.push((await throughputRun("throughput (warm-up, not measured)")).check);
  }
  const runs: ThroughputResult[] = [];
  for (let run = 0; run < sizes.throughputRuns; run++) runs.push(await throughputRun("throughput"));
  const throughput = combineRuns(runs);
  await queue.reset();
  const latency = await measurePickupLatency(
    queue,
    sizes.latencyJobs,
    sizes.latencyGapMs,
    sizes.timeoutMs,
  );
  return { throughput, warmupCheck: sumChecks(warmups), latency };
}

/**
 * The one table: a row per step, each ratio against the step it builds on
 * when that ran too; then a row per peer, which has no history or idle
 * column (see {@link PeerResults}).
 */
export function renderSuiteTable(
  steps: readonly Step[],
  results: readonly StepResults[],
  peers: readonly PeerResults[] = [],
): string[] {
  const byId = new Map(results.map((result) => [result.step, result]));
  const stepRows = results.map((result) => {
    const step = steps.find((candidate) => candidate.id === result.step);
    const base = step?.buildsOn ? byId.get(step.buildsOn) : undefined;
    const ratio = (value: number, baseValue: number | undefined) =>
      baseValue === undefined ? "" : ` (${formatRatio(value, baseValue)})`;
    return [
      `${result.step}${step ? ` ${step.slug}` : ""}`,
      ...speedCells(
        result,
        ratio(result.throughput.processPerSecond, base?.throughput.processPerSecond),
      ),
      `${formatNumber(result.history.dequeuePerSecond)}${ratio(result.history.dequeuePerSecond, base?.history.dequeuePerSecond)}`,
      formatNumber(result.idle.statementsPerSecond),
      describeChecks([
        result.warmupCheck,
        result.throughput.check,
        result.latency.check,
        result.history.check,
      ]),
    ];
  });
  const peerRows = peers.map((result) => [
    result.peer,
    ...speedCells(result, ""),
    "–",
    "–",
    describeChecks([result.warmupCheck, result.throughput.check, result.latency.check]),
  ]);
  return renderTable(
    [
      "queue",
      "enqueue/s",
      "process/s",
      "CPU s/10k jobs",
      "pickup p50/p95/p99 ms",
      "p50 from call ms",
      "dequeue/s w/ history",
      "idle stmt/s",
      "check",
    ],
    [...stepRows, ...peerRows],
  );
}

/** The columns every row has: enqueue and process rates, worker CPU, pickup latency from the commit and from the call. */
function speedCells(result: SpeedResults, processRatio: string): Cell[] {
  return [
    formatNumber(result.throughput.enqueuePerSecond),
    `${formatNumber(result.throughput.processPerSecond)}${processRatio}`,
    formatNumber(cpuSecondsPer10kJobs(result.throughput)),
    `${formatNumber(result.latency.p50Ms)} / ${formatNumber(result.latency.p95Ms)} / ${formatNumber(result.latency.p99Ms)}`,
    formatNumber(result.latency.p50FromCallMs),
  ];
}

function describeChecks(checks: readonly RunCheck[]): string {
  const { missing, duplicates, expected } = sumChecks(checks);
  if (missing === 0 && duplicates === 0) return `all ${formatNumber(expected)} ran once`;
  return [missing > 0 ? `${missing} missing` : "", duplicates > 0 ? `${duplicates} ran twice+` : ""]
    .filter(Boolean)
    .join(", ");
}

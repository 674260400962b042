/**
 * `npm run bench`: every step on the standard scenarios, in one run, in one
 * table.
 *
 * @module
 */

import type { Output, Step, StepInstance } from "../../step.ts";
import { formatNumber, formatRatio, renderTable } from "../format.ts";
import type { RunCheck } from "./run-tracker.ts";
import {
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

export interface StepResults {
  readonly step: string;
  readonly throughput: ThroughputResult;
  readonly latency: LatencyResult;
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
  const results: StepResults[] = [];
  for (const step of steps) {
    out.line(`step ${step.id} ${step.slug}: throughput, latency, history, idle load…`);
    const instance = await open(step);
    try {
      const fresh = async () => {
        await instance.reset();
        return instance;
      };
      const throughput = await measureThroughput(
        await fresh(),
        sizes.throughputJobs,
        sizes.throughputConcurrency,
        sizes.timeoutMs,
      );
      const latency = await measurePickupLatency(
        await fresh(),
        sizes.latencyJobs,
        sizes.latencyGapMs,
        sizes.timeoutMs,
      );
      const history = await measureDequeueWithHistory(
        await fresh(),
        sizes.historyFinishedJobs,
        sizes.historyDequeuedJobs,
        sizes.timeoutMs,
      );
      const idle = await measureIdleLoad(await fresh(), sizes.idleSeconds);
      results.push({ step: step.id, throughput, latency, history, idle });
    } finally {
      await instance.close();
    }
  }
  return results;
}

/** The one table: a row per step, each ratio against the step it builds on when that ran too. */
export function renderSuiteTable(
  steps: readonly Step[],
  results: readonly StepResults[],
): string[] {
  const byId = new Map(results.map((result) => [result.step, result]));
  const rows = results.map((result) => {
    const step = steps.find((candidate) => candidate.id === result.step);
    const base = step?.buildsOn ? byId.get(step.buildsOn) : undefined;
    const ratio = (value: number, baseValue: number | undefined) =>
      baseValue === undefined ? "" : ` (${formatRatio(value, baseValue)})`;
    return [
      `${result.step}${step ? ` ${step.slug}` : ""}`,
      formatNumber(result.throughput.enqueuePerSecond),
      `${formatNumber(result.throughput.processPerSecond)}${ratio(result.throughput.processPerSecond, base?.throughput.processPerSecond)}`,
      `${formatNumber(result.latency.p50Ms)} / ${formatNumber(result.latency.p95Ms)} / ${formatNumber(result.latency.p99Ms)}`,
      `${formatNumber(result.history.dequeuePerSecond)}${ratio(result.history.dequeuePerSecond, base?.history.dequeuePerSecond)}`,
      formatNumber(result.idle.statementsPerSecond),
      describeChecks([result.throughput.check, result.latency.check, result.history.check]),
    ];
  });
  return renderTable(
    [
      "step",
      "enqueue/s",
      "process/s",
      "pickup p50/p95/p99 ms",
      "dequeue/s w/ history",
      "idle stmt/s",
      "check",
    ],
    rows,
  );
}

function describeChecks(checks: readonly RunCheck[]): string {
  const missing = checks.reduce((sum, check) => sum + check.missing, 0);
  const duplicates = checks.reduce((sum, check) => sum + check.duplicates, 0);
  const expected = checks.reduce((sum, check) => sum + check.expected, 0);
  if (missing === 0 && duplicates === 0) return `all ${formatNumber(expected)} ran once`;
  return [missing > 0 ? `${missing} missing` : "", duplicates > 0 ? `${duplicates} ran twice+` : ""]
    .filter(Boolean)
    .join(", ");
}

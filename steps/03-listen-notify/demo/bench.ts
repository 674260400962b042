/**
 * `npm run step 03 -- bench`: pickup latency and the load of an idle worker,
 * step 02 (polling) against step 03 (LISTEN/NOTIFY), in the same run.
 *
 * @module
 */
import {
  FULL_SIZES,
  type IdleLoadResult,
  type LatencyResult,
  measureIdleLoad,
  measurePickupLatency,
  QUICK_SIZES,
} from "../../../lib/workshop/bench/scenarios.ts";
import { median } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, formatRatio, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

const FULL = { ...pick(FULL_SIZES), rounds: 3 };
const QUICK = { ...pick(QUICK_SIZES), rounds: 1 };

function pick(sizes: typeof FULL_SIZES) {
  return {
    latencyJobs: sizes.latencyJobs,
    latencyGapMs: sizes.latencyGapMs,
    idleSeconds: sizes.idleSeconds,
    timeoutMs: sizes.timeoutMs,
  };
}

const STEPS = ["02", "03"] as const;

export async function runBenchmark({ open, out, quick, saveResults }: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 03 benchmark — pickup latency and idle load, 02 against 03");
  say(
    out,
    `Pickup: an idle worker, ${settings.latencyJobs} no-op jobs enqueued one at a time ${settings.latencyGapMs} ms ` +
      `apart, from commit to perform. Idle load: statements one idle worker sends in ${settings.idleSeconds} s. ` +
      `Default intervals (02 polls every 100 ms; 03's fallback poll is 5 s). ${settings.rounds} round(s), interleaved, median reported.`,
  );
  const instances = await Promise.all(
    STEPS.map((step) => open({ step, namespace: `bench03_${step}` })),
  );
  const latency: LatencyResult[][] = STEPS.map(() => []);
  const idle: IdleLoadResult[][] = STEPS.map(() => []);
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, instance] of instances.entries()) {
        out.line(`  round ${round + 1}: step ${instance.step.id}…`);
        await instance.reset();
        latency[index]?.push(
          await measurePickupLatency(
            instance,
            settings.latencyJobs,
            settings.latencyGapMs,
            settings.timeoutMs,
          ),
        );
        await instance.reset();
        idle[index]?.push(await measureIdleLoad(instance, settings.idleSeconds));
      }
    }
  } finally {
    await Promise.all(instances.map((instance) => instance.close()));
  }
  const med = (runs: readonly LatencyResult[] | undefined, key: "p50Ms" | "p95Ms" | "p99Ms") =>
    median((runs ?? []).map((run) => run[key]));
  const idleMedian = (index: number) =>
    median((idle[index] ?? []).map((run) => run.statementsPerSecond));
  const rows = STEPS.map((step, index) => {
    const runs = latency[index];
    const checks = (runs ?? []).map((run) => run.check);
    const missing = Math.max(0, ...checks.map((check) => check.missing));
    const duplicates = Math.max(0, ...checks.map((check) => check.duplicates));
    return [
      step,
      `${formatNumber(med(runs, "p50Ms"))} / ${formatNumber(med(runs, "p95Ms"))} / ${formatNumber(med(runs, "p99Ms"))}`,
      formatNumber(idleMedian(index)),
      missing === 0 && duplicates === 0
        ? "all ran once"
        : `${missing} missing, ${duplicates} twice`,
    ];
  });
  rows.push([
    "03 vs 02",
    `${formatRatio(med(latency[1], "p50Ms"), med(latency[0], "p50Ms"))} / ${formatRatio(med(latency[1], "p95Ms"), med(latency[0], "p95Ms"))} / ${formatRatio(med(latency[1], "p99Ms"), med(latency[0], "p99Ms"))}`,
    formatRatio(idleMedian(1), idleMedian(0)),
    "",
  ]);
  out.line("");
  for (const line of renderTable(
    ["step", "pickup p50 / p95 / p99 ms", "idle statements/s", "check"],
    rows,
  ))
    out.line(`  ${line}`);
  await saveResults("step-03", settings, { steps: STEPS, latency, idle });
}

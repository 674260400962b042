/** The standard table's throughput is several runs of each queue: what one row then says. */
import { describe, expect, it } from "vitest";
import {
  combineRuns,
  cpuSecondsPer10kJobs,
  FULL_SIZES,
  QUICK_SIZES,
  runsOf,
} from "../lib/workshop/bench/scenarios.ts";
import { renderSuiteTable } from "../lib/workshop/bench/standard-suite.ts";

const run = (processPerSecond: number, cpu: number, duplicates = 0) => ({
  enqueuePerSecond: processPerSecond * 4,
  processPerSecond,
  workerCpuSeconds: cpu,
  check: { expected: 10_000, completed: 10_000, missing: 0, duplicates },
});

describe("combineRuns", () => {
  it("reports each rate's median, so one slow run does not decide a ratio", () => {
    const combined = combineRuns([run(18_000, 0.3), run(11_000, 0.6), run(20_000, 0.3)]);
    expect(combined.processPerSecond).toBe(18_000);
    expect(combined.enqueuePerSecond).toBe(72_000);
  });

  it("checks every job of every run, and counts CPU per job over all of them", () => {
    const combined = combineRuns([run(18_000, 0.3), run(11_000, 0.6, 2), run(20_000, 0.3)]);
    expect(combined.check).toEqual({
      expected: 30_000,
      completed: 30_000,
      missing: 0,
      duplicates: 2,
    });
    expect(cpuSecondsPer10kJobs(combined)).toBeCloseTo(0.4, 10);
  });

  it("says how the column was measured", () => {
    expect(runsOf(FULL_SIZES)).toBe("the median of 3 runs, after 1 warm-up run");
    expect(runsOf(QUICK_SIZES)).toBe("one run");
  });

  it("counts a warm-up run's jobs in the check column, though not in the rates", () => {
    const measured = combineRuns([run(18_000, 0.3)]);
    const latency = {
      p50Ms: 1,
      p95Ms: 2,
      p99Ms: 3,
      p50FromCallMs: 1.5,
      check: { ...measured.check, expected: 200, completed: 200 },
    };
    const row = (warmupCheck: typeof measured.check) =>
      renderSuiteTable(
        [],
        [],
        [{ peer: "a queue", throughput: measured, warmupCheck, latency }],
      ).at(-1);
    expect(row(measured.check)).toMatch(/18,000 .* all 20,200 ran once$/);
    expect(row({ ...measured.check, completed: 9_999, missing: 1 })).toMatch(/ 1 missing$/);
  });
});

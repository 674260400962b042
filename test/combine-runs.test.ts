/** The standard table's throughput is several runs of each queue: what one row then says. */
import { describe, expect, it } from "vitest";
import {
  combineRuns,
  cpuSecondsPer10kJobs,
  FULL_SIZES,
  QUICK_SIZES,
  runsOf,
} from "../lib/workshop/bench/scenarios.ts";

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
    expect(runsOf(FULL_SIZES)).toBe("the median of 3 runs");
    expect(runsOf(QUICK_SIZES)).toBe("one run");
  });
});

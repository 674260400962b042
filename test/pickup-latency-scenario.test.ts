/**
 * The benchmark's pickup-latency scenario times each job twice: from the
 * enqueue call and from its return (the commit). Both come from one run, so
 * the standard table can show them side by side.
 */
import { describe, expect, it } from "vitest";
import { measurePickupLatency } from "../lib/workshop/bench/scenarios.ts";
import { step } from "../steps/03-listen-notify/index.ts";
import { openForTest } from "./support/open.ts";

const JOBS = 20;
const GAP_MS = 5;
/** Long enough for a loaded machine; the scenario reports missing jobs rather than hang. */
const TIMEOUT_MS = 20_000;

describe("pickup latency, from the call and from the commit", () => {
  it("times every job from both: each call comes before its commit, so the median from the call is the larger", async () => {
    const instance = await openForTest(step, "pickup_origins");
    const fromCommit = await measurePickupLatency(instance, JOBS, GAP_MS, TIMEOUT_MS);
    expect(fromCommit.check).toMatchObject({ expected: JOBS, missing: 0, duplicates: 0 });
    expect(fromCommit.p50FromCallMs).toBeGreaterThan(fromCommit.p50Ms);
  });

  it("with from: 'call', its percentiles are the ones timed from the call", async () => {
    const instance = await openForTest(step, "pickup_from_call");
    const fromCall = await measurePickupLatency(instance, JOBS, GAP_MS, TIMEOUT_MS, "call");
    expect(fromCall.check).toMatchObject({ expected: JOBS, missing: 0, duplicates: 0 });
    expect(fromCall.p50Ms).toBe(fromCall.p50FromCallMs);
  });
});

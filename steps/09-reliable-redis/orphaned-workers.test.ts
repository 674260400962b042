/**
 * Step 09 when its supervisor is SIGKILLed under load, as step 08's test: the worker processes
 * it started are orphans that nobody reaps for (supervised workers leave that to their
 * supervisor) and whose output goes to pipes nobody reads. Each must notice, stop as on
 * SIGTERM (finish what ends within the shutdown timeout, hand back the rest, leave), and a new
 * worker then runs what is left.
 */
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import type { StepInstance } from "../../lib/step.ts";
import { openForTest } from "../../test/support/open.ts";
import { recordingJobs } from "../../test/support/recording-jobs.ts";
import { eventually } from "../../test/support/waiting.ts";
import { spawnWorker } from "../../test/support/worker-process.ts";
import { step } from "./index.ts";
import { QUEUE } from "./keys.ts";
import { decodeJob } from "./payload.ts";

const SHORT_JOBS = 600;
const LONG_JOBS = 3;

describe("step 09 — a supervisor killed with SIGKILL", () => {
  it("its orphaned workers stop gracefully, handing back what they cannot finish; a new worker runs the rest: none lost, none stuck", async () => {
    const instance = await openForTest(step, "orphans");
    // Jobs that outlive any shutdown timeout first (the oldest are taken first), then a load.
    const long = await instance.enqueueMany(
      Array.from({ length: LONG_JOBS }, () => ({ name: "Sleep", args: { ms: 600_000 } })),
    );
    await instance.enqueueMany(
      Array.from({ length: SHORT_JOBS }, () => ({ name: "Sleep", args: { ms: 20 } })),
    );
    const supervisor = spawnWorker(instance, [
      "--processes",
      "3",
      "--concurrency",
      "4",
      "--heartbeat-interval",
      "200",
      // Nobody reaps while the orphans stop (supervised workers leave that to their
      // supervisor): what they hold, they must hand back themselves.
      "--alive-threshold",
      "3000",
      "--shutdown-timeout",
      "1000",
    ]);
    await eventually(
      () =>
        (
          supervisor
            .output()
            .match(new RegExp(`\\] Step ${step.id} worker .* running with`, "g")) ?? []
        ).length === 3,
      "the three worker processes to be running",
      30_000,
    );
    for (const id of long) await supervisor.waitForLine(new RegExp(`▶ job ${id} Sleep`));
    await supervisor.waitForLine(/✓ job \d+ Sleep/); // short jobs are running too
    supervisor.child.kill("SIGKILL");
    await supervisor.exited;

    // Each orphan notices within a beat that its parent is gone, stops taking, finishes its
    // short jobs, hands back the long ones and leaves. One that stayed would keep taking
    // jobs nobody reaps for; one that died at its next log line would strand what it held.
    await eventually(
      async () => (await workers(instance)) === 0 && (await instance.counts()).claimed === 0,
      "every orphaned worker to leave, holding no job",
      20_000,
    );
    // Handed back, not reaped: an interrupted graceful stop is not a failed attempt.
    expect(await attemptsInQueue(redisOf(instance), long)).toEqual(long.map(() => 1));

    const { registry } = recordingJobs(); // its Sleep returns at once
    const next = instance.startWorker({
      registry,
      concurrency: 4,
      heartbeatIntervalMs: 200,
      aliveThresholdMs: 2_000,
    });
    try {
      await eventually(
        async () => (await instance.counts()).finished === SHORT_JOBS + LONG_JOBS,
        "every job to finish",
        30_000,
      );
      // The dead supervisor is reaped by the new worker once its heartbeat key expires.
      await eventually(
        async () => ((await instance.processes?.()) ?? []).length === 1,
        "the dead supervisor to be reaped",
        10_000,
      );
    } finally {
      await next.stop();
    }
    expect(await instance.counts()).toEqual({
      ready: 0,
      scheduled: 0,
      claimed: 0,
      finished: SHORT_JOBS + LONG_JOBS,
      failed: 0,
    });
    expect(await instance.processes?.()).toEqual([]);
  }, 90_000);
});

function redisOf(instance: StepInstance): Redis {
  if (!instance.redis) throw new Error("Step 09 opened without a Redis connection.");
  return instance.redis;
}

async function workers(instance: StepInstance): Promise<number> {
  const processes = (await instance.processes?.()) ?? [];
  return processes.filter((row) => row.kind === "Worker").length;
}

/** The attempt each of `ids` is on, as its entry in the queue says. */
async function attemptsInQueue(redis: Redis, ids: readonly string[]): Promise<number[]> {
  const entries = (await redis.lrange(QUEUE, 0, -1)).map((entry) => decodeJob(entry));
  return ids.map((id) => entries.find((job) => job.id === id)?.attempt ?? 0);
}

// Unchanged from step 08: steps/08-recovery/orphaned-workers.test.ts
/**
 * Step 08 when its supervisor is SIGKILLed under load: the worker processes it started are
 * orphans whose stdout and stderr are pipes nobody reads any more. Each must notice, stop as
 * on SIGTERM (finish what ends within the shutdown timeout, release the rest, deregister) —
 * not die at its next log line holding its claims — and a new worker then runs what is left.
 */
import { describe, expect, it } from "vitest";
import type { StepInstance } from "../../lib/step.ts";
import { openForTest } from "../../test/support/open.ts";
import { recordingJobs } from "../../test/support/recording-jobs.ts";
import { eventually } from "../../test/support/waiting.ts";
import { spawnWorker } from "../../test/support/worker-process.ts";
import { step } from "./index.ts";

const SHORT_JOBS = 600;
const LONG_JOBS = 3;

describe("step 08 — a supervisor killed with SIGKILL", () => {
  it("its orphaned workers stop gracefully without their output, releasing what they cannot finish; a new worker runs the rest: none lost, none stuck", async () => {
    const instance = await openForTest(step, "orphans");
    // Jobs that outlive any shutdown timeout first (the oldest are claimed first), then a load.
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
      // Nobody runs recovery while the orphans stop (supervised workers leave it to their
      // supervisor): what they hold, they must give back themselves.
      "--alive-threshold",
      "3000",
      "--shutdown-timeout",
      "1000",
    ]);
    // Every worker is running (it has noted who its parent is) and busy before the kill.
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

    // Each orphan notices within a heartbeat that its parent is gone, stops claiming,
    // finishes its short jobs, releases the long ones and deregisters. One that died at its
    // next log line would keep its row and its claims until someone prunes it. A second and a
    // half (the shutdown timeout is 1 s); 6 s allows for a loaded machine.
    await eventually(
      async () => (await workerRows(instance)) === 0 && (await instance.counts()).claimed === 0,
      "every orphaned worker to deregister, holding no claim",
      6_000,
    );
    // Released, not recovered: a release is not a failed attempt.
    expect(await attemptsOf(instance, long)).toEqual(long.map(() => 0));

    const { registry } = recordingJobs(); // its Sleep returns at once
    const next = instance.startWorker({
      registry,
      concurrency: 4,
      pollIntervalMs: 20,
      heartbeatIntervalMs: 200,
      aliveThresholdMs: 2_000,
    });
    try {
      await eventually(
        async () => (await instance.counts()).finished === SHORT_JOBS + LONG_JOBS,
        "every job to finish",
        30_000,
      );
      // The dead supervisor's own row is pruned by the new worker's recovery.
      await eventually(
        async () => ((await instance.processes?.()) ?? []).length === 1,
        "the dead supervisor to be pruned",
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

async function workerRows(instance: StepInstance): Promise<number> {
  const processes = (await instance.processes?.()) ?? [];
  return processes.filter((row) => row.kind === "Worker").length;
}

async function attemptsOf(instance: StepInstance, ids: readonly string[]): Promise<number[]> {
  const rows = await instance.database?.query<{ attempts: number }>(
    "SELECT attempts FROM jobs WHERE id = ANY($1::bigint[]) ORDER BY id",
    [ids],
  );
  return (rows ?? []).map((row) => row.attempts);
}

// Unchanged from step 08: steps/08-recovery/database-outage.test.ts
/**
 * Step 08 when its database goes away, with real processes and a PostgreSQL
 * server of the test's own: restarted under load, and away for 20 s under
 * load. Each test ends by accounting for every job. A file of its own, apart
 * from chaos.test.ts, so that the two run side by side: most of this one's
 * time is the outage, which is waiting.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import { spawnWorkerProcess } from "../../lib/worker-process.ts";
import { startPrivatePostgres } from "../../test/support/private-postgres.ts";
import { eventually } from "../../test/support/waiting.ts";
import { step } from "./index.ts";

describe("step 08 — the database goes away", () => {
  it("loses no job when the PostgreSQL server restarts under load", async () => {
    const JOBS = 1_000;
    const server = await startPrivatePostgres();
    const instance = await step.open({
      databaseUrl: server.url,
      namespace: `t08_restart_${process.pid}`,
    });
    onTestFinished(() => instance.close());
    await instance.enqueueMany(
      Array.from({ length: JOBS }, () => ({ name: "Sleep", args: { ms: 10 } })),
    );
    const supervisor = spawnWorkerProcess({
      stepId: step.id,
      namespace: instance.namespace,
      // A threshold well above a restart's few seconds: nobody is taken for dead.
      args: ["--processes", "2", "--concurrency", "4", "--alive-threshold", "30000"],
      env: { ...process.env, DATABASE_URL: server.url },
    });
    try {
      await eventually(
        async () => ((await instance.counts()).finished ?? 0) >= JOBS / 5,
        "a fifth of the jobs to finish",
        30_000,
      );
      await server.restart();
      await eventually(
        async () => {
          // The test's own pool meets the restart too: a failed look is "not yet".
          const counts = await instance.counts().catch(() => undefined);
          return counts?.finished === JOBS;
        },
        "every job to finish after the restart",
        45_000,
      );
    } finally {
      supervisor.child.kill("SIGTERM");
    }
    expect(await supervisor.exited).toEqual({ code: 0, signal: null });
    expect(await instance.counts()).toEqual({
      ready: 0,
      scheduled: 0,
      claimed: 0,
      finished: JOBS,
      failed: 0,
    });
    // The workers saw the server go and come back, and said so.
    expect(supervisor.output()).toMatch(/terminat|ECONNREFUSED|shutting down/i);
  }, 90_000);

  it("loses no job and leaves none claimed when the PostgreSQL server is away for 20 s under load", async () => {
    const JOBS = 600;
    // Twice as long as finishing used to be retried (ten times, a second
    // apart): the jobs that ended during the outage must still be recorded.
    // The outage is what this test is about, so its length is a fixed wait.
    const OUTAGE_MS = 20_000;
    const server = await startPrivatePostgres();
    const instance = await step.open({
      databaseUrl: server.url,
      namespace: `t08_outage_${process.pid}`,
    });
    onTestFinished(() => instance.close());
    await instance.enqueueMany(
      Array.from({ length: JOBS }, () => ({ name: "Sleep", args: { ms: 10 } })),
    );
    const supervisor = spawnWorkerProcess({
      stepId: step.id,
      namespace: instance.namespace,
      // The default alive threshold (60 s) outlasts the outage: nobody is
      // taken for dead, so every job runs once.
      args: ["--processes", "2", "--concurrency", "4"],
      env: { ...process.env, DATABASE_URL: server.url },
    });
    try {
      await eventually(
        async () => ((await instance.counts()).finished ?? 0) >= JOBS / 5,
        "a fifth of the jobs to finish",
        30_000,
      );
      await server.stop();
      await sleep(OUTAGE_MS);
      await server.start();
      await eventually(
        async () => (await instance.counts().catch(() => undefined))?.finished === JOBS,
        "every job to be finished once the server is back",
        45_000,
      );
    } finally {
      supervisor.child.kill("SIGTERM");
    }
    expect(await supervisor.exited).toEqual({ code: 0, signal: null });
    expect(await instance.counts()).toEqual({
      ready: 0,
      scheduled: 0,
      claimed: 0,
      finished: JOBS,
      failed: 0,
    });
    expect(await instance.processes?.()).toEqual([]);
    // Nothing was given back on the way out: every outcome had been recorded.
    expect(supervisor.output()).not.toMatch(/released back to ready/);
  }, 150_000);
});

// Unchanged from step 08: steps/08-recovery/database-outage.test.ts
/**
 * Step 08 when its database goes away, with real processes and a PostgreSQL
 * server of the test's own: restarted under load, then away for 5 s under
 * load, in one run that ends by accounting for every job. A file of its own,
 * apart from chaos.test.ts, so that the two run side by side: most of this
 * one's time is the outage, which is waiting.
 *
 * One run for both, not a test each: each would start its own server,
 * enqueue its own jobs and wait for its own supervisor's workers to start
 * before its one event, and that setup cost as much as the restart. The
 * waits name the phase they wait in, so a failure still says which event
 * lost the jobs.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import type { StepInstance } from "../../lib/step.ts";
import { spawnWorkerProcess } from "../../lib/worker-process.ts";
import { startPrivatePostgres } from "../../test/support/private-postgres.ts";
import { eventually } from "../../test/support/waiting.ts";
import { step } from "./index.ts";

/**
 * Long enough for every part of every worker to meet it — claims, finishes,
 * heartbeats, the dispatcher — and for finishing to try again five times
 * (after 0.1, 0.3, 0.7, 1.5 and 3.1 s). Not longer: an outage longer than
 * finishing used to be retried (ten times, a second apart) is
 * test/finish-outage.test.ts's, for every step that claims jobs, and here
 * each second of outage is a second of every `practice 08 -- check`. The
 * outage is what this test is about, so its length is a fixed wait.
 */
const OUTAGE_MS = 5_000;
/** Enough for each event to find a third of the jobs still to run. */
const JOBS = 1_200;

describe("step 08 — the database goes away", () => {
  it("loses no job and leaves none claimed when the PostgreSQL server restarts under load, and when it is away for 5 s", async () => {
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
      // The default alive threshold (60 s) outlasts the restart and the
      // outage: nobody is taken for dead, so every job runs once.
      args: ["--processes", "2", "--concurrency", "4"],
      env: { ...process.env, DATABASE_URL: server.url },
    });
    try {
      await finishedAtLeast(instance, JOBS / 3, "a third of the jobs to finish", 30_000);
      await server.restart();
      // The test's own pool meets the restart too: finishedAtLeast takes a
      // failed look for "not yet".
      const atOutage = await finishedAtLeast(
        instance,
        (JOBS * 2) / 3,
        "two thirds of the jobs to finish after the restart",
        45_000,
      );
      expect(atOutage, "jobs left to run through the outage").toBeLessThan(JOBS);
      await server.stop();
      await sleep(OUTAGE_MS);
      await server.start();
      await finishedAtLeast(instance, JOBS, "every job to finish once the server is back", 45_000);
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
    // The workers saw the server go and come back, and said so.
    expect(supervisor.output()).toMatch(/terminat|ECONNREFUSED|shutting down/i);
    // Nothing was given back on the way out: every outcome had been recorded.
    expect(supervisor.output()).not.toMatch(/released back to ready/);
  }, 150_000);
});

/** Waits until at least `count` jobs are finished, and returns how many are. */
async function finishedAtLeast(
  instance: StepInstance,
  count: number,
  what: string,
  timeoutMs: number,
): Promise<number> {
  let finished = 0;
  await eventually(
    async () => {
      finished = (await instance.counts().catch(() => undefined))?.finished ?? 0;
      return finished >= count;
    },
    what,
    timeoutMs,
  );
  return finished;
}

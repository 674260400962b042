/**
 * Step 10 has no foreign keys from ready_executions and claimed_executions
 * to jobs (schema.sql): nothing in the database refuses a ready row whose
 * job is gone. What makes that safe is that one statement deletes jobs, the
 * dead queue's discard, and that it and the retry each start by deleting
 * the job's failed row, so only one of them gets a job. Held here where
 * they meet: both, for every dead job, at once.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import type { StepInstance } from "../../lib/step.ts";
import { openForTest } from "../../test/support/open.ts";
import { eventually } from "../../test/support/waiting.ts";
import { step } from "./index.ts";

const JOBS = 200;

describe("step 10 — no foreign keys to jobs", () => {
  it("a retry and a discard of the same dead job at once: each job goes one way, and no ready row outlives its job", async () => {
    const instance = await openForTest(step, "deadraces");
    const registry = new JobRegistry([
      defineJob({
        name: "Buried",
        description: "fails its one attempt",
        exampleArguments: {},
        maxAttempts: 1,
        async perform() {
          throw new Error("buried");
        },
      }),
    ]);
    const ids = await instance.enqueueMany(
      Array.from({ length: JOBS }, () => ({ name: "Buried" })),
    );
    const worker = instance.startWorker({ registry, concurrency: 10 });
    await eventually(
      async () => (await instance.counts()).failed === JOBS,
      "every job to be in the dead queue",
    );
    await worker.stop();

    // For every dead job, a retry and a discard sent together, on the
    // instance's pool: they meet on the same rows from different connections.
    const { retryFailedJobs, discardFailedJobs } = instance;
    if (!retryFailedJobs || !discardFailedJobs) throw new Error("step 10 has a dead queue");
    const outcomes = await Promise.all(
      ids.map(async (id) => {
        const [retried, discarded] = await Promise.all([
          retryFailedJobs([id]),
          discardFailedJobs([id]),
        ]);
        return { id, retried: retried.includes(id), discarded: discarded.includes(id) };
      }),
    );
    for (const outcome of outcomes) {
      expect(outcome, `job ${outcome.id} went one way`).toMatchObject({
        retried: !outcome.discarded,
      });
    }
    const retried = outcomes.filter((outcome) => outcome.retried).length;
    expect(await instance.counts()).toMatchObject({ ready: retried, claimed: 0, failed: 0 });
    expect(await orphans(instance)).toEqual({ ready: 0, claimed: 0, jobs: retried });
  });
});

/** Ready and claimed rows whose job is gone, and the jobs left. */
async function orphans(
  instance: StepInstance,
): Promise<{ ready: number; claimed: number; jobs: number }> {
  const [row] =
    (await instance.database?.query<{ ready: number; claimed: number; jobs: number }>(
      `SELECT (SELECT count(*)::int FROM ready_executions AS r
               WHERE NOT EXISTS (SELECT FROM jobs WHERE jobs.id = r.job_id)) AS ready,
              (SELECT count(*)::int FROM claimed_executions AS c
               WHERE NOT EXISTS (SELECT FROM jobs WHERE jobs.id = c.job_id)) AS claimed,
              (SELECT count(*)::int FROM jobs) AS jobs`,
    )) ?? [];
  if (!row) throw new Error("no database");
  return row;
}

/**
 * Step 10's own tests: outcomes that end together are written in one
 * statement, whatever their kinds; a late outcome in a batch changes only
 * its own row; a claim takes jobs in priority order; a graceful stop leaves
 * nothing claimed and runs nothing twice; enqueue is one statement; a job
 * has one ready row at most.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import type { StepInstance } from "../../lib/step.ts";
import { RunTracker } from "../../lib/workshop/bench/run-tracker.ts";
import { openForTest } from "../../test/support/open.ts";
import { recordingJobs } from "../../test/support/recording-jobs.ts";
import { eventually, gate, nthEvent } from "../../test/support/waiting.ts";
import { claimReadyJobs, finishClaimedJobs } from "./claims.ts";
import { step } from "./index.ts";
import { registerProcess } from "./processes.ts";

function sql(instance: StepInstance) {
  if (!instance.database) throw new Error("no database");
  return instance.database;
}

describe("step 10 — batching", () => {
  it("outcomes that end together — finished, retry and dead — are written by one statement", async () => {
    const instance = await openForTest(step, "together");
    // Three jobs held at a gate, so all three end in the same moment.
    const ends = gate();
    const job = (name: string, maxAttempts: number, fail: boolean) =>
      defineJob({
        name,
        description: "",
        exampleArguments: {},
        maxAttempts,
        async perform() {
          await ends.opened;
          if (fail) throw new Error(`${name} failed`);
        },
      });
    const registry = new JobRegistry([
      job("Succeeds", 3, false),
      job("Retried", 3, true),
      job("Buried", 1, true),
    ]);
    const [succeeds, retried, buried] = await instance.enqueueMany(
      ["Succeeds", "Retried", "Buried"].map((name) => ({ name })),
    );
    const started = nthEvent(instance.events, "started", () => true, 3);
    const worker = instance.startWorker({ registry, concurrency: 3 });
    await started;
    ends.open();
    await eventually(
      async () => (await instance.counts()).claimed === 0,
      "all three outcomes to be written",
    );
    await worker.stop();
    // now() is the start of the transaction it is read in: the three rows
    // written with the same now() were written by one transaction.
    const [row] = await sql(instance).query<{ finished: Date; rescheduled: Date; failed: Date }>(
      `SELECT (SELECT finished_at FROM jobs WHERE id = $1) AS finished,
              (SELECT created_at FROM scheduled_executions WHERE job_id = $2) AS rescheduled,
              (SELECT failed_at FROM failed_executions WHERE job_id = $3) AS failed`,
      [succeeds, retried, buried],
    );
    expect(row?.finished).toBeInstanceOf(Date);
    expect(row?.rescheduled).toEqual(row?.finished);
    expect(row?.failed).toEqual(row?.finished);
  });

  it("a batch whose claims were partly taken away writes only the rows still its own", async () => {
    const instance = await openForTest(step, "partly");
    const [first, second] = await instance.enqueueMany([{ name: "Noop" }, { name: "Noop" }]);
    const processId = await registerProcess(sql(instance), {
      kind: "Worker",
      name: "test",
      aliveThresholdMs: 60_000,
    });
    const claimed = await claimReadyJobs(sql(instance), processId, ["default"], 2);
    expect(claimed.map((job) => job.id)).toEqual([first, second]);
    // The second claim is taken away, as recovery or a stop would.
    await sql(instance).query("DELETE FROM claimed_executions WHERE job_id = $1", [second]);
    const recorded = await finishClaimedJobs(
      sql(instance),
      [first, second].map((jobId) => ({
        jobId: jobId ?? "",
        processId,
        disposition: { kind: "finished" },
      })),
    );
    expect(recorded).toEqual([{ stillOurs: true }, { stillOurs: false }]);
    const rows = await sql(instance).query<{ id: string; finished: boolean }>(
      "SELECT id, finished_at IS NOT NULL AS finished FROM jobs ORDER BY id",
    );
    expect(rows).toEqual([
      { id: first, finished: true },
      { id: second, finished: false },
    ]);
    await sql(instance).query("DELETE FROM claimed_executions");
    await sql(instance).query("DELETE FROM processes");
  });

  it("a claim of a batch takes its jobs most urgent first, and the worker starts them in that order", async () => {
    const instance = await openForTest(step, "order");
    const { registry, received } = recordingJobs();
    const priorities = [50, 7, 100, 3, 7, 200, 0, 50];
    const ids = await instance.enqueueMany(
      priorities.map((priority, index) => ({ name: "Record", args: { index }, priority })),
    );
    // As many slots as jobs: the worker's first claim takes all of them at once.
    const worker = instance.startWorker({ registry, concurrency: priorities.length });
    await eventually(() => received.length === ids.length, "every job to run");
    await worker.stop();
    const expected = ids
      .map((id, index) => ({ id, priority: priorities[index] ?? 0 }))
      .sort((a, b) => a.priority - b.priority || Number(a.id) - Number(b.id))
      .map((job) => job.id);
    expect(received.map((run) => run.jobId)).toEqual(expected);
  });

  it("a graceful stop in the middle of a flood leaves nothing claimed, and ran nothing twice", async () => {
    const instance = await openForTest(step, "flood");
    const ids = await instance.enqueueMany(Array.from({ length: 2_000 }, () => ({ name: "Noop" })));
    const tracker = new RunTracker(instance.events);
    const worker = instance.startWorker({ concurrency: 10 });
    await eventually(
      async () => ((await instance.counts()).finished ?? 0) >= 200,
      "a tenth of the jobs to finish",
    );
    await worker.stop();
    const counts = await instance.counts();
    expect(counts).toMatchObject({ claimed: 0, scheduled: 0, failed: 0 });
    expect((counts.finished ?? 0) + (counts.ready ?? 0)).toBe(ids.length);
    // A second worker runs the rest; across both, every job ran exactly once.
    const rest = instance.startWorker({ concurrency: 10 });
    await tracker.waitForAll(ids, 60_000);
    await rest.stop();
    tracker.stop();
    expect(tracker.check(ids)).toMatchObject({ missing: 0, duplicates: 0 });
  });

  it("enqueue is one statement: a job, its ready row and the doorbell, or nothing", async () => {
    const instance = await openForTest(step, "enqueue");
    const before = sql(instance).statementsSent;
    const [ready, later] = await instance.enqueueMany([
      { name: "Noop" },
      { name: "Noop", runAt: new Date(Date.now() + 3_600_000) },
    ]);
    expect(sql(instance).statementsSent - before).toBe(1);
    const rows = await sql(instance).query<{ ready: string[]; scheduled: string[] }>(
      `SELECT ARRAY(SELECT job_id::text FROM ready_executions) AS ready,
              ARRAY(SELECT job_id::text FROM scheduled_executions) AS scheduled`,
    );
    expect(rows).toEqual([{ ready: [ready], scheduled: [later] }]);
  });

  it("a job has one ready row at most: the claim order's key refuses a second", async () => {
    const instance = await openForTest(step, "one_ready_row");
    // The key is the claim order, and the ready table has no other index.
    const indexes = await sql(instance).query<{ definition: string }>(
      `SELECT indexdef AS definition FROM pg_indexes
       WHERE schemaname = current_schema() AND tablename = 'ready_executions'`,
    );
    expect(indexes.map((index) => index.definition.replace(/ ON \S+/, ""))).toEqual([
      "CREATE UNIQUE INDEX ready_executions_pkey USING btree (queue_name, priority, job_id)",
    ]);
    const [id] = await instance.enqueueMany([{ name: "Noop", priority: 7 }]);
    // As a release, a retry or the dispatcher writes one: copied from the job.
    const readyAgain = sql(instance).query(
      `INSERT INTO ready_executions (job_id, queue_name, priority)
       SELECT id, queue_name, priority FROM jobs WHERE id = $1`,
      [id],
    );
    await expect(readyAgain).rejects.toMatchObject({
      code: "23505", // unique_violation
      constraint: "ready_executions_pkey",
    });
  });
});

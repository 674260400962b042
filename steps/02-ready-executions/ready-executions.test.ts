/**
 * Step 02's own tests: what the ready table and SKIP LOCKED buy, and what
 * is still wrong. (Several workers running no job twice, a crashed worker's
 * job coming back, pickup waiting for the poll and the transaction held
 * while a job runs are shown by the contract suite in test/contract/.)
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import { openForTest } from "../../test/support/open.ts";
import { eventually, nextEvent } from "../../test/support/waiting.ts";
import { quickJob, waitingJob } from "../../test/support/waiting-job.ts";
import { insertJobs } from "./enqueue.ts";
import { step } from "./index.ts";
import { TAKE_SQL } from "./ready-executions.ts";

describe("step 02 — ready executions", () => {
  it("taking a job reads a few pages of the ready table, however much history there is", async () => {
    const instance = await openForTest(step, "plan");
    const database = instance.database;
    if (!database) throw new Error("no database");
    await instance.fillHistory(20_000);
    await instance.enqueue("Noop", {});
    // EXPLAIN ANALYZE really runs the DELETE, so it goes in a transaction
    // that is rolled back.
    const client = await database.pool.connect();
    let plan: string;
    try {
      await client.query("BEGIN");
      const result = await client.query<{ "QUERY PLAN": string }>(
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${TAKE_SQL}`,
      );
      plan = result.rows.map((row) => row["QUERY PLAN"]).join("\n");
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    // Step 01's poll reads every one of the 20,000 finished rows (~130 pages);
    // this reads the ready table's index and one jobs row by its key.
    expect(plan).not.toMatch(/Seq Scan on jobs/);
    const pages = [...plan.matchAll(/shared hit=(\d+)(?: read=(\d+))?/g)].map(
      (match) => Number(match[1]) + Number(match[2] ?? 0),
    );
    expect(Math.max(...pages)).toBeLessThan(30);
  });

  it("a second worker takes the next job while the first one's job is still running (SKIP LOCKED)", async () => {
    const instance = await openForTest(step, "skip");
    const { definition, release } = waitingJob();
    // Should the test fail with the slow job still running, that job's open
    // transaction would block the schema's drop: end it first (the hooks run
    // last registered first).
    onTestFinished(() => release.open());
    const registry = new JobRegistry([definition, quickJob()]);
    const slowId = await instance.enqueue("Slow", {});
    const quickId = await instance.enqueue("Quick", {});
    const slowStarted = nextEvent(instance.events, "started", (e) => e.jobId === slowId);
    const first = instance.startWorker({ registry, name: "first", pollIntervalMs: 10 });
    await slowStarted;
    // The slow job's ready row is locked by the first worker's open
    // transaction. Without SKIP LOCKED the second worker's take would wait
    // on that lock — the oldest row — until the slow job is done.
    const quickFinished = nextEvent(instance.events, "finished", (e) => e.jobId === quickId);
    const second = instance.startWorker({ registry, name: "second", pollIntervalMs: 10 });
    expect((await quickFinished).workerId).toMatch(/^second/);
    // Its delete is not committed yet, so everyone else still sees it ready.
    expect(await instance.counts()).toEqual({ ready: 1, finished: 1, failed: 0 });
    release.open();
    await nextEvent(instance.events, "finished", (e) => e.jobId === slowId);
    await Promise.all([first.stop(), second.stop()]);
    expect(await instance.counts()).toEqual({ ready: 0, finished: 2, failed: 0 });
  });

  it("a job enqueued in a transaction that rolls back leaves neither a job nor a ready row", async () => {
    const instance = await openForTest(step, "rollback");
    const database = instance.database;
    if (!database) throw new Error("no database");
    class OrderRejected extends Error {}
    await expect(
      database.transaction(async (tx) => {
        await insertJobs(tx, [{ name: "Noop", args: {} }]);
        throw new OrderRejected("the order this job belongs to was rejected");
      }),
    ).rejects.toThrow(OrderRejected);
    const [row] = await database.query<{ jobs: number; ready: number }>(
      "SELECT (SELECT count(*) FROM jobs)::int AS jobs, (SELECT count(*) FROM ready_executions)::int AS ready",
    );
    expect(row).toEqual({ jobs: 0, ready: 0 });
  });

  it("an idle worker keeps querying: every poll interval, a transaction of three statements", async () => {
    const instance = await openForTest(step, "idle");
    const before = instance.statementsSent();
    const worker = instance.startWorker({ pollIntervalMs: 10 });
    await eventually(
      () => instance.statementsSent() - before >= 15,
      "five polls with nothing to do",
    );
    await worker.stop();
    expect(await instance.counts()).toEqual({ ready: 0, finished: 0, failed: 0 });
  });

  it("a row whose arguments were damaged in the database is recorded as failed, and the worker goes on", async () => {
    const instance = await openForTest(step, "corrupt");
    const database = instance.database;
    if (!database) throw new Error("no database");
    const damaged = await instance.enqueue("Noop", {});
    const healthy = await instance.enqueue("Noop", {});
    await database.query("UPDATE jobs SET arguments = '{\"unterminated' WHERE id = $1", [damaged]);
    const failed = nextEvent(instance.events, "failed", (e) => e.jobId === damaged);
    const finished = nextEvent(instance.events, "finished", (e) => e.jobId === healthy);
    const worker = instance.startWorker({ pollIntervalMs: 10 });
    expect((await failed).error).toMatch(
      /CorruptArgumentsError: Job \d+ has stored arguments that are not valid JSON/,
    );
    await finished;
    await worker.stop();
    expect(await instance.counts()).toEqual({ ready: 0, finished: 1, failed: 1 });
  });
});

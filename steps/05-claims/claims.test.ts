/**
 * Step 05's own tests: what claims change. (That no transaction is open while
 * a job runs is also enforced for every step that declares it by the contract
 * suite, no-transaction.test.ts; that a SIGKILLed worker's job never runs
 * again is demonstrated there too, worker-crash.test.ts.)
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it, onTestFinished } from "vitest";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import type { StepInstance } from "../../lib/step.ts";
import { RunTracker } from "../../lib/workshop/bench/run-tracker.ts";
import { testDatabaseUrl } from "../../test/services.ts";
import { enqueueAndWait } from "../../test/support/enqueue-and-wait.ts";
import { openObserver } from "../../test/support/observer.ts";
import { openForTest } from "../../test/support/open.ts";
import { startPrivatePostgres } from "../../test/support/private-postgres.ts";
import { recordingJobs } from "../../test/support/recording-jobs.ts";
import { eventually, gate, nextEvent } from "../../test/support/waiting.ts";
import { waitingJob } from "../../test/support/waiting-job.ts";
import { spawnWorker, type WorkerProcess } from "../../test/support/worker-process.ts";
import { step } from "./index.ts";

/** The claimed rows, oldest job first. */
async function claimedRows(instance: StepInstance) {
  return (
    (await instance.database?.query<{ job_id: string; process_id: string }>(
      "SELECT job_id, process_id FROM claimed_executions ORDER BY job_id",
    )) ?? []
  );
}

/** The ids of the jobs a worker process printed `▶ job <id>` for, in order. */
function startedIn(worker: WorkerProcess): string[] {
  return [...worker.output().matchAll(/▶ job (\d+) /g)].map((match) => match[1] ?? "");
}

describe("step 05 — claims", () => {
  it("three worker processes with four slots each run 300 jobs, every one exactly once", async () => {
    const instance = await openForTest(step, "procs");
    const ids = await instance.enqueueMany(
      Array.from({ length: 300 }, (_, i) => ({ name: "SendWelcomeEmail", args: { userId: i } })),
    );
    const workers = [1, 2, 3].map(() => spawnWorker(instance, ["--concurrency", "4"]));
    try {
      await eventually(
        async () => (await instance.counts()).finished === 300,
        "all 300 jobs to finish",
        60_000,
      );
    } finally {
      for (const worker of workers) worker.child.kill("SIGTERM");
      await Promise.all(workers.map((worker) => worker.exited));
    }
    const started = workers.flatMap(startedIn);
    expect(started.length).toBe(300);
    expect(new Set(started).size).toBe(300);
    expect([...started].sort()).toEqual([...ids].sort());
    // Each process ran some: they shared the queue.
    for (const worker of workers) expect(startedIn(worker).length).toBeGreaterThan(0);
    expect(await instance.counts()).toEqual({ ready: 0, claimed: 0, finished: 300, failed: 0 });
  }, 90_000);

  it("twenty jobs run at once on a pool of five connections, with no transaction open", async () => {
    const instance = await step.open({
      databaseUrl: testDatabaseUrl(),
      namespace: `t05_pool_${randomBytes(3).toString("hex")}`,
      poolSize: 5,
    });
    onTestFinished(async () => {
      await instance.database?.dropSchema();
      await instance.close();
    });
    const database = instance.database;
    if (!database) throw new Error("no database");
    const observer = await openObserver();
    const { registry, release } = waitingJob();
    const started = new Set<string>();
    instance.events.on("started", (e) => started.add(e.jobId));
    const ids = await instance.enqueueMany(Array.from({ length: 20 }, () => ({ name: "Slow" })));
    const worker = instance.startWorker({ registry, concurrency: 20 });
    await eventually(() => started.size === 20, "all twenty jobs to start");
    // Twenty running, five connections at most, and none of them in a
    // transaction or checked out of the pool: the claims are committed rows.
    expect((await claimedRows(instance)).map((row) => row.job_id)).toEqual(ids);
    await eventually(async () => {
      const connections = await observer.connectionsOf(instance.namespace);
      return (
        connections.every((c) => c.xact_start === null) &&
        database.pool.totalCount - database.pool.idleCount === 0
      );
    }, "no transaction and no checked-out connection while the jobs run");
    expect(database.pool.totalCount).toBeLessThanOrEqual(5);
    const tracker = new RunTracker(instance.events);
    release.open();
    await tracker.waitForAll(ids, 10_000);
    await worker.stop();
    expect(tracker.check(ids)).toMatchObject({ completed: 20, duplicates: 0 });
    expect(await instance.counts()).toEqual({ ready: 0, claimed: 0, finished: 20, failed: 0 });
  });

  it("a job that throws is recorded as failed with its error, and its claim is removed", async () => {
    const instance = await openForTest(step, "throws");
    const { registry } = recordingJobs();
    const worker = instance.startWorker({ registry });
    const id = await enqueueAndWait(instance, "failed", "Explode", { message: "card declined" });
    await worker.stop();
    expect(await claimedRows(instance)).toEqual([]);
    const [row] =
      (await instance.database?.query<{ error: string }>("SELECT error FROM jobs WHERE id = $1", [
        id,
      ])) ?? [];
    expect(row?.error).toBe("Error: card declined");
    expect(await instance.counts()).toEqual({ ready: 0, claimed: 0, finished: 0, failed: 1 });
  });

  it("demonstrates: a worker killed with SIGKILL leaves its claims behind, and those jobs never run", async () => {
    const instance = await openForTest(step, "kill");
    const ids = await instance.enqueueMany(
      Array.from({ length: 3 }, () => ({ name: "Sleep", args: { ms: 600_000 } })),
    );
    const crashing = spawnWorker(instance, ["--concurrency", "3"]);
    await eventually(() => startedIn(crashing).length === 3, "all three jobs to start", 20_000);
    crashing.child.kill("SIGKILL");
    expect(await crashing.exited).toEqual({ code: null, signal: "SIGKILL" });
    // The three claims name the dead process (host:pid), and stay.
    const claims = await claimedRows(instance);
    expect(claims.map((row) => row.job_id)).toEqual(ids);
    for (const claim of claims) expect(claim.process_id).toMatch(`:${crashing.child.pid}`);
    // A healthy worker with free slots runs a job enqueued after the crash…
    const { registry, received } = recordingJobs();
    const started: string[] = [];
    instance.events.on("started", (e) => started.push(e.jobId));
    const healthy = instance.startWorker({ registry, concurrency: 3, pollIntervalMs: 20 });
    const laterId = await enqueueAndWait(instance, "finished", "Record", {}, 20_000);
    await healthy.stop();
    // …and none of the claimed ones: nothing hands them out again.
    expect(started).toEqual([laterId]);
    expect(received.map((run) => run.jobId)).toEqual([laterId]);
    expect(await instance.counts()).toEqual({ ready: 0, claimed: 3, finished: 1, failed: 0 });
  }, 60_000);
});

describe("step 05 — a PostgreSQL restart mid-run", () => {
  it("the running job is finished after the restart, once; queued and new jobs all run", async () => {
    const server = await startPrivatePostgres();
    onTestFinished(() => server.close());
    const instance = await step.open({
      databaseUrl: server.url,
      namespace: `t05_restart_${randomBytes(3).toString("hex")}`,
    });
    onTestFinished(() => instance.close());
    const release = gate();
    let slowRuns = 0;
    const { registry: recording } = recordingJobs();
    const registry = new JobRegistry([
      ...recording.definitions(),
      defineJob({
        name: "Slow",
        description: "waits for the test",
        exampleArguments: {},
        perform: () => {
          slowRuns++;
          return release.opened;
        },
      }),
    ]);
    const tracker = new RunTracker(instance.events);
    const slowId = await instance.enqueue("Slow", {});
    const queued = await instance.enqueueMany(
      Array.from({ length: 5 }, (_, i) => ({ name: "Record", args: { i } })),
    );
    const slowStarted = nextEvent(instance.events, "started", (e) => e.jobId === slowId);
    const worker = instance.startWorker({ registry, pollIntervalMs: 500 });
    await slowStarted;
    // In step 03 the restart would cut the job's transaction and the job
    // would run again. Here it holds no transaction: it goes on running.
    await server.restart();
    release.open(); // its finish goes to the restarted server (retried if needed)
    const later = await instance.enqueueMany(
      Array.from({ length: 5 }, (_, i) => ({ name: "Record", args: { after: i } })),
    );
    const all = [slowId, ...queued, ...later];
    await tracker.waitForAll(all, 30_000);
    await worker.stop();
    expect(tracker.check(all)).toEqual({ expected: 11, completed: 11, missing: 0, duplicates: 0 });
    expect(slowRuns).toBe(1);
    expect(await instance.counts()).toEqual({ ready: 0, claimed: 0, finished: 11, failed: 0 });
  }, 120_000);
});

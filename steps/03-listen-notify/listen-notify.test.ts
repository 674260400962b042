/**
 * Step 03's own tests: what LISTEN/NOTIFY changes, and what happens when the
 * listening connection or the whole server goes away. (That pickup does not
 * wait for the poll is enforced by the contract suite, pickup-latency.test.ts;
 * that a running job still holds a transaction is demonstrated in
 * no-transaction.test.ts.)
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it, onTestFinished } from "vitest";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import { RunTracker } from "../../lib/workshop/bench/run-tracker.ts";
import { testDatabaseUrl } from "../../test/services.ts";
import { openObserver } from "../../test/support/observer.ts";
import { openForTest } from "../../test/support/open.ts";
import { startPrivatePostgres } from "../../test/support/private-postgres.ts";
import { recordingJobs } from "../../test/support/recording-jobs.ts";
import { eventually, gate, nextEvent, untilQuiet } from "../../test/support/waiting.ts";
import { waitingJob } from "../../test/support/waiting-job.ts";
import { insertJobs } from "./enqueue.ts";
import { step } from "./index.ts";

/** So long that any pickup in these tests came from a notification (or a reconnect's look). */
const NO_FALLBACK_MS = 10 * 60_000;
/** Generous: a notified pickup takes milliseconds. */
const PICKUP_BOUND_MS = 5_000;

/** The connections of `namespace` that are listening, by pid. */
async function listeningPids(
  observer: Awaited<ReturnType<typeof openObserver>>,
  namespace: string,
) {
  const connections = await observer.connectionsOf(namespace);
  return connections.filter((c) => /^LISTEN /.test(c.query)).map((c) => c.pid);
}

describe("step 03 — listen/notify", () => {
  it("a rolled-back enqueue wakes nobody and leaves no job", async () => {
    const instance = await openForTest(step, "rollback");
    const database = instance.database;
    if (!database) throw new Error("no database");
    // A listener of our own on the step's channel records every notification.
    const spy = new pg.Client({ connectionString: testDatabaseUrl() });
    await spy.connect();
    onTestFinished(() => spy.end());
    const heard: string[] = [];
    spy.on("notification", (message) => heard.push(message.channel));
    await spy.query(`LISTEN "${instance.namespace}"`);

    class OrderRejected extends Error {}
    await expect(
      database.transaction(async (tx) => {
        await insertJobs(tx, [{ name: "Noop", args: {} }]);
        throw new OrderRejected("the order this job belongs to was rejected");
      }),
    ).rejects.toThrow(OrderRejected);
    expect(await instance.counts()).toEqual({ ready: 0, finished: 0, failed: 0 });
    // Notifications arrive in commit order: once the next enqueue's is heard,
    // one from the rolled-back transaction would have been heard before it.
    await instance.enqueue("Noop", {});
    await eventually(() => heard.length >= 1, "the committed enqueue's notification");
    expect(heard).toEqual([instance.namespace]);
  });

  it("one notification for a batch wakes every slot: all three jobs start at once", async () => {
    const instance = await openForTest(step, "batch");
    const { registry, release } = waitingJob();
    const worker = instance.startWorker({
      registry,
      concurrency: 3,
      pollIntervalMs: NO_FALLBACK_MS,
    });
    const observer = await openObserver();
    await eventually(
      async () => (await listeningPids(observer, instance.namespace)).length === 1,
      "the worker to listen",
    );
    const started: string[] = [];
    instance.events.on("started", (e) => started.push(e.jobId));
    // One transaction, one NOTIFY (identical notifications in a transaction
    // are merged): every waiting slot must wake on it, not just one.
    const ids = await instance.enqueueMany([1, 2, 3].map(() => ({ name: "Slow", args: {} })));
    await eventually(() => started.length === 3, "all three slots to start a job", PICKUP_BOUND_MS);
    expect([...started].sort()).toEqual([...ids].sort());
    release.open();
    const tracker = new RunTracker(instance.events);
    await tracker.waitForAll(ids, 10_000);
    await worker.stop();
  });

  it("a notification that comes between a loop's empty look and its wait is not lost: the job starts without the fallback poll", async () => {
    const instance = await openForTest(step, "between");
    // The interleaving the doorbell's count exists for, made to happen every time: the loop
    // has looked and found nothing, and before it waits, a job is enqueued and its
    // notification rings the doorbell. A wait that counted rings only from here on would
    // sleep through it until the fallback poll, ten minutes away.
    let rings = 0;
    let onRing = () => {};
    let enqueued: string | undefined;
    const hooks = {
      afterRing() {
        rings++;
        onRing();
      },
      async afterFindingNothing() {
        // Once the listener is listening (it rings when it has connected), and once only.
        if (rings === 0 || enqueued !== undefined) return;
        const rung = new Promise<void>((resolve) => {
          onRing = resolve;
        });
        enqueued = await instance.enqueue("Noop", {});
        await rung;
      },
    };
    const finished = nextEvent(instance.events, "finished", (e) => e.jobId === enqueued);
    const worker = instance.startWorker({ hooks, pollIntervalMs: NO_FALLBACK_MS });
    await finished;
    await worker.stop();
    expect(await instance.counts()).toEqual({ ready: 0, finished: 1, failed: 0 });
  });

  it("an idle worker goes quiet: no statement at all between fallback polls", async () => {
    const instance = await openForTest(step, "quiet");
    const worker = instance.startWorker({ pollIntervalMs: NO_FALLBACK_MS });
    const observer = await openObserver();
    await eventually(
      async () => (await listeningPids(observer, instance.namespace)).length === 1,
      "the worker to listen",
    );
    // Its start-up: a first look at the queue, LISTEN, a look after LISTEN.
    const id = await instance.enqueue("Noop", {});
    await nextEvent(instance.events, "finished", (e) => e.jobId === id);
    // Its last look at the queue after the job (and after the notification
    // that announced it) is over once it has sent nothing for a while — which
    // a polling worker never does — and no statement of it is still under way
    // (on a loaded machine one round trip can outlast the quiet spell).
    await eventually(async () => {
      await untilQuiet(instance, 500);
      const connections = await observer.connectionsOf(instance.namespace);
      return connections.every((c) => c.state === "idle");
    }, "the worker to finish its last look at the queue");
    const before = instance.statementsSent();
    // Step 02's worker sends 30 statements in a second like this one.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(instance.statementsSent() - before).toBe(0);
    await worker.stop();
  });

  it("a listening connection killed with pg_terminate_backend comes back, and later jobs start at once", async () => {
    const instance = await openForTest(step, "terminate");
    const observer = await openObserver();
    const { registry } = recordingJobs();
    const worker = instance.startWorker({ registry, pollIntervalMs: NO_FALLBACK_MS });
    let killed = 0;
    await eventually(async () => {
      [killed = 0] = await listeningPids(observer, instance.namespace);
      return killed !== 0;
    }, "the worker to listen");
    await observer.query("SELECT pg_terminate_backend($1)", [killed]);
    await eventually(async () => {
      const pids = await listeningPids(observer, instance.namespace);
      return pids.length === 1 && pids[0] !== killed;
    }, "a new listening connection");
    const id = await instance.enqueue("Record", {});
    await nextEvent(instance.events, "started", (e) => e.jobId === id, PICKUP_BOUND_MS);
    await worker.stop();
  });
});

describe("step 03 — a PostgreSQL restart mid-run", () => {
  it("loses no job: the job cut off runs again, queued jobs and new ones all run", async () => {
    const server = await startPrivatePostgres();
    const instance = await step.open({
      databaseUrl: server.url,
      namespace: `t03_restart_${randomBytes(3).toString("hex")}`,
    });
    onTestFinished(() => instance.close());
    const release = gate();
    let slowRuns = 0;
    const { registry: recording } = recordingJobs();
    const registry = new JobRegistry([
      ...recording.definitions(),
      defineJob({
        name: "Slow",
        description: "waits for the test the first time, returns at once after",
        exampleArguments: {},
        perform: () => (++slowRuns === 1 ? release.opened : undefined),
      }),
    ]);
    const tracker = new RunTracker(instance.events);
    const slowId = await instance.enqueue("Slow", {});
    const queued = await instance.enqueueMany(
      Array.from({ length: 5 }, (_, i) => ({ name: "Record", args: { i } })),
    );
    const slowStarted = nextEvent(instance.events, "started", (e) => e.jobId === slowId);
    // A short fallback poll: it and the reconnect's look at the queue are
    // what cover the time nobody listened.
    const worker = instance.startWorker({ registry, pollIntervalMs: 500 });
    await slowStarted;
    await server.restart(); // the Slow job's transaction dies with its connection
    release.open(); // its perform returns; recording the outcome fails; it rolls back
    const later = await instance.enqueueMany(
      Array.from({ length: 5 }, (_, i) => ({ name: "Record", args: { after: i } })),
    );
    const all = [slowId, ...queued, ...later];
    await tracker.waitForAll(all, 30_000);
    await worker.stop();
    const check = tracker.check(all);
    expect({ missing: check.missing, completed: check.completed }).toEqual({
      missing: 0,
      completed: 11,
    });
    expect(slowRuns).toBe(2); // cut off once, then run again
    expect(await instance.counts()).toEqual({ ready: 0, finished: 11, failed: 0 });
  }, 120_000);
});

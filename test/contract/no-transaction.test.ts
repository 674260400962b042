/**
 * The contract suite: `noTransactionWhileRunning` — no database transaction
 * or pooled connection is held while a job runs.
 *
 * Postgres steps only: the guarantee is about PostgreSQL's transactions and
 * the step's connection pool, and `pg_stat_activity` is where they show. A
 * Redis step has neither (its commands are not transactions that stay open,
 * and a blocked BRPOP connection is how it waits, not a lock on a job).
 *
 * Enforced where declared: while a job blocks on a gate, none of the step's
 * connections (application_name = its namespace) has a transaction open, and
 * no connection is checked out of its pool. "Eventually": a step may run
 * short transactions of its own meanwhile (a heartbeat, a claim for another
 * slot); what it must not do is keep one open for the job. A step that does
 * keeps it for as long as the gate is shut, and fails.
 *
 * Demonstrated where not: the job's connection sits `idle in transaction`
 * (BEGIN sent, COMMIT not yet) for as long as the job runs.
 */
import { expect, it, onTestFinished } from "vitest";
import { contractFor } from "../support/contract.ts";
import { openObserver } from "../support/observer.ts";
import { openForTest } from "../support/open.ts";
import { eventually, nextEvent } from "../support/waiting.ts";
import { waitingJob } from "../support/waiting-job.ts";

contractFor(
  "noTransactionWhileRunning",
  (step, declared) => {
    async function startSlowJob(label: string) {
      const instance = await openForTest(step, label);
      const database = instance.database;
      if (!database) throw new Error(`Step ${step.id} is a Postgres step without a database.`);
      const observer = await openObserver();
      const { registry, release } = waitingJob();
      const id = await instance.enqueue("Slow", {});
      const started = nextEvent(instance.events, "started", (e) => e.jobId === id);
      const worker = instance.startWorker({ registry, pollIntervalMs: 50 });
      // When a test fails before it lets the job return, the job must not go
      // on waiting: its transaction (on a step that holds one) would keep the
      // lock that the clean-up's DROP SCHEMA waits for, until the hook times out.
      onTestFinished(() => release.open());
      await started;
      const checkedOut = () => database.pool.totalCount - database.pool.idleCount;
      return { instance, observer, release, worker, id, checkedOut };
    }

    if (declared) {
      it("holds no transaction and no pooled connection while a job runs", async () => {
        const { instance, observer, release, worker, id, checkedOut } = await startSlowJob("notx");
        await eventually(async () => {
          const connections = await observer.connectionsOf(instance.namespace);
          return connections.every((c) => c.xact_start === null) && checkedOut() === 0;
        }, "no open transaction and no checked-out connection while the job runs");
        const finished = nextEvent(instance.events, "finished", (e) => e.jobId === id);
        release.open();
        await finished;
        await worker.stop();
      });
    } else {
      it("demonstrates: a running job holds an open transaction, and its connection, until it returns", async () => {
        const { instance, observer, release, worker, id, checkedOut } = await startSlowJob("tx");
        // While perform runs, the worker's connection sits "idle in
        // transaction": BEGIN was sent, COMMIT will be sent when the job returns.
        await eventually(async () => {
          const connections = await observer.connectionsOf(instance.namespace);
          return connections.some((c) => c.state === "idle in transaction");
        }, "an idle-in-transaction connection while the job runs");
        expect(checkedOut()).toBeGreaterThanOrEqual(1);
        const finished = nextEvent(instance.events, "finished", (e) => e.jobId === id);
        release.open();
        await finished;
        await worker.stop();
        const connections = await observer.connectionsOf(instance.namespace);
        expect(connections.filter((c) => c.state === "idle in transaction")).toEqual([]);
      });
    }
  },
  (step) => step.backend === "postgres",
);

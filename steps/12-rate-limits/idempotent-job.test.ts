// Unchanged from step 08: steps/08-recovery/idempotent-job.test.ts
/**
 * At-least-once, seen from a job: a worker is taken for dead after its job
 * did its work and before the outcome was recorded; recovery retries the
 * job, another worker runs it again. The naive job credits twice; the
 * idempotent one, once.
 */
import { describe, expect, it } from "vitest";
import { defineJob, type JobDefinition } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import type { StepInstance } from "../../lib/step.ts";
import { openForTest } from "../../test/support/open.ts";
import { gate, nextEvent } from "../../test/support/waiting.ts";
import {
  type Credit,
  idempotentCreditJob,
  LEDGER_SCHEMA,
  naiveCreditJob,
} from "./idempotent-job.ts";
import { step } from "./index.ts";
import { pruneDeadProcesses } from "./recovery.ts";

const POLICY = { maxAttemptsOf: () => 5, backoff: { baseMs: 10, maxMs: 10, jitter: 0 } };

/** Runs one Credit job twice through the queue, the first run's worker taken for dead; returns the ledger. */
async function creditThroughADeath(
  instance: StepInstance,
  makeJob: typeof naiveCreditJob,
): Promise<{ account: string; cents: number }[]> {
  const sql = instance.database;
  if (!sql) throw new Error("no database");
  await sql.query(LEDGER_SCHEMA);
  const credit = makeJob(sql);
  // The first run does the work, then stalls before its outcome is
  // recorded. (Should the first worker, once it registers again, run the
  // job a second time itself, that run does not stall.)
  const stalled = gate();
  let runs = 0;
  const stalling: JobDefinition<Credit> = {
    ...credit,
    async perform(args, context) {
      await credit.perform(args, context);
      if (++runs === 1) await stalled.opened;
    },
  };
  const id = await instance.enqueue("Credit", { account: "alice", cents: 500 });
  const firstRun = nextEvent(instance.events, "started", (e) => e.jobId === id);
  // The test's backoff for its own retries too: its recovery loop may be the
  // one that prunes it (see below).
  const first = instance.startWorker({
    registry: new JobRegistry([defineJob(stalling)]),
    retryBackoff: POLICY.backoff,
  });
  await firstRun;
  // Its heartbeat looks a day old, as after a long pause: taken for dead, its
  // job retried — by this prune, or by the worker's own recovery loop: its
  // first prune, sent as it started, before it had a row to leave alone, can
  // reach the database after this UPDATE on a busy machine.
  await sql.query("UPDATE processes SET last_heartbeat_at = now() - interval '1 day'");
  await pruneDeadProcesses(sql, { policy: POLICY });
  const secondRun = nextEvent(instance.events, "finished", (e) => e.jobId === id);
  const second = instance.startWorker({
    registry: new JobRegistry([credit]),
    dispatchIntervalMs: 20,
  });
  await secondRun;
  const superseded = nextEvent(instance.events, "superseded", (e) => e.jobId === id);
  stalled.open();
  await superseded;
  await Promise.all([first.stop(), second.stop()]);
  return sql.query<{ account: string; cents: number }>("SELECT account, cents FROM credits");
}

describe("step 08 — idempotent jobs", () => {
  it("demonstrates: a naive job run twice credits twice", async () => {
    const instance = await openForTest(step, "naive");
    expect(await creditThroughADeath(instance, naiveCreditJob)).toEqual([
      { account: "alice", cents: 500 },
      { account: "alice", cents: 500 },
    ]);
  });

  it("a job keyed on its id, run twice, credits once", async () => {
    const instance = await openForTest(step, "idempotent");
    expect(await creditThroughADeath(instance, idempotentCreditJob)).toEqual([
      { account: "alice", cents: 500 },
    ]);
  });
});

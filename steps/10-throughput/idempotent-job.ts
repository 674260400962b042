// Unchanged from step 08: steps/08-recovery/idempotent-job.ts
/**
 * Writing a job that may run twice. Step 08 delivers at least once: a job
 * whose worker died after it started, before its outcome was recorded,
 * runs again. Here, a job that credits an account, twice over — naive, and
 * idempotent.
 *
 * @module
 */
import { defineJob, type JobDefinition } from "../../lib/jobs/job.ts";
import type { Sql } from "../../lib/postgres/database.ts";

/** The ledger both versions write to; `job_id` is what makes a second run harmless. */
export const LEDGER_SCHEMA = `
  CREATE TABLE IF NOT EXISTS credits (
    id      bigserial PRIMARY KEY,
    job_id  bigint UNIQUE,
    account text NOT NULL,
    cents   integer NOT NULL
  )`;

/** What a Credit job is given (a type, not an interface: arguments must be plain JSON). */
export type Credit = { readonly account: string; readonly cents: number };

/** Runs twice, credits twice: nothing ties the row to the job that wrote it. */
// #region naive
export function naiveCreditJob(ledger: Sql): JobDefinition<Credit> {
  return defineJob<Credit>({
    name: "Credit",
    description: "credits an account (naively)",
    exampleArguments: { account: "alice", cents: 500 },
    async perform({ account, cents }) {
      await ledger.query("INSERT INTO credits (account, cents) VALUES ($1, $2)", [account, cents]);
    },
  });
}
// #endregion naive

/**
 * Runs twice, credits once. The job's id is the idempotency key: the effect
 * and the key are written in one statement, so a second run finds the key
 * and does nothing. The effect must live where the key does — the same
 * database, in the same transaction. For an effect elsewhere (a payment
 * API, an email), pass the job id as that service's idempotency key
 * (Stripe's `Idempotency-Key` header), or record the key first and check it
 * before the effect, accepting a small window.
 */
// #region idempotent
export function idempotentCreditJob(ledger: Sql): JobDefinition<Credit> {
  return defineJob<Credit>({
    name: "Credit",
    description: "credits an account, once per job",
    exampleArguments: { account: "alice", cents: 500 },
    async perform({ account, cents }, { jobId }) {
      await ledger.query(
        `INSERT INTO credits (job_id, account, cents) VALUES ($1, $2, $3)
         ON CONFLICT (job_id) DO NOTHING`,
        [jobId, account, cents],
      );
    },
  });
}
// #endregion idempotent

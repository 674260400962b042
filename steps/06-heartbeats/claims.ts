// Unchanged from step 05: steps/05-claims/claims.ts
/**
 * Claiming ready jobs, and finishing claimed ones: two short transactions,
 * with the job run between them and outside both.
 *
 * @module
 */
import type { JobOutcome, StoredJob } from "../../lib/jobs/perform.ts";
import type { Sql } from "../../lib/postgres/database.ts";

/**
 * Claims up to `limit` of the oldest ready jobs for `processId`: locks their
 * ready rows, deletes them, inserts claimed rows, and returns the jobs, oldest
 * first. Committed when it returns — nobody waits on the job's lock while it
 * runs, because there is no lock any more: the claimed row is the record that
 * it is taken.
 *
 * One statement, so one transaction of its own (PostgreSQL runs every
 * statement outside BEGIN … COMMIT as a transaction): one round trip where
 * BEGIN / SELECT / INSERT / DELETE / COMMIT would take five. The three parts
 * are the three steps Solid Queue's `ReadyExecution.claim` takes:
 *
 * 1. `picked`: the oldest ready rows, `FOR UPDATE SKIP LOCKED` — rows another
 *    worker is claiming at this instant are skipped, not waited for. Served by
 *    `ready_executions`' primary key, walked in job_id order.
 * 2. `unready`: deletes exactly those rows from ready_executions.
 * 3. `claimed`: inserts them into claimed_executions, with who claimed them.
 *
 * If the statement fails half-way, nothing of it happened: a job is never
 * neither ready nor claimed.
 *
 * `limit` is the worker's free slots: a worker with 20 slots and 20 ready
 * jobs claims all 20 in one statement, instead of 20 workers each asking for
 * one.
 */
// #region claim
export const CLAIM_SQL = `
  WITH picked AS (
    SELECT job_id FROM ready_executions
    ORDER BY job_id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  ), unready AS (
    DELETE FROM ready_executions
    WHERE job_id IN (SELECT job_id FROM picked)
    RETURNING job_id
  ), claimed AS (
    INSERT INTO claimed_executions (job_id, process_id)
    SELECT job_id, $2 FROM unready
    RETURNING job_id
  )
  SELECT jobs.id, jobs.name, jobs.arguments
  FROM claimed JOIN jobs ON jobs.id = claimed.job_id
  ORDER BY jobs.id`;

export async function claimReadyJobs(
  sql: Sql,
  processId: string,
  limit: number,
): Promise<StoredJob[]> {
  return sql.query<StoredJob>(CLAIM_SQL, [limit, processId]);
}
// #endregion claim

/**
 * Records the outcome and gives up the claim, in one statement (and so one
 * transaction): the job is finished (or failed) exactly when it is no longer
 * claimed. Both go by job_id, a primary key lookup each.
 *
 * The job has already run when this is sent. If the worker dies before it
 * commits, the job ran but stays claimed: a crash between claim and finish
 * leaves the claim behind — steps 06 to 08 are about noticing that and
 * running the job again.
 */
// #region finish
export async function finishClaimedJob(
  sql: Sql,
  job: StoredJob,
  outcome: JobOutcome,
): Promise<void> {
  const error = outcome.status === "failed" ? outcome.error : null;
  await sql.query(
    `WITH released AS (
       DELETE FROM claimed_executions WHERE job_id = $1
     )
     UPDATE jobs SET finished_at = now(), error = $2 WHERE id = $1`,
    [job.id, error],
  );
}
// #endregion finish

// Unchanged from step 02: steps/02-ready-executions/ready-executions.ts
/**
 * Taking a ready job: "give me the oldest ready job nobody else has taken".
 *
 * @module
 */
import type { StoredJob } from "../../lib/jobs/perform.ts";
import type { Sql } from "../../lib/postgres/database.ts";

/**
 * Takes the oldest ready job: deletes its ready row and returns the job.
 * Must run inside the transaction that runs the job, which then holds the
 * row's lock until it commits (the job is done) or rolls back (the worker
 * died: the row is ready again).
 *
 * Served by `ready_executions`' primary key: an index walk in job_id order
 * that stops at the first row it can lock. The table holds only ready jobs,
 * so that walk reads a few entries whatever the history — finished jobs live
 * in `jobs`, which this query only touches through its primary key, once.
 *
 * `FOR UPDATE SKIP LOCKED`: a row another worker has taken (locked, its
 * delete not yet committed) is skipped instead of waited for, so several
 * workers each take a different job. Without SKIP LOCKED the second worker
 * would wait on the first one's lock for the whole job, then find the row
 * gone and get nothing: correct, but one job at a time.
 */
// #region take
export const TAKE_SQL = `
  WITH taken AS (
    DELETE FROM ready_executions
    WHERE job_id = (
      SELECT job_id FROM ready_executions
      ORDER BY job_id
      LIMIT 1
      FOR UPDATE SKIP LOCKED
    )
    RETURNING job_id
  )
  SELECT jobs.id, jobs.name, jobs.arguments
  FROM taken JOIN jobs ON jobs.id = taken.job_id`;

export async function takeReadyJob(tx: Sql): Promise<StoredJob | undefined> {
  const [job] = await tx.query<StoredJob>(TAKE_SQL);
  return job;
}
// #endregion take

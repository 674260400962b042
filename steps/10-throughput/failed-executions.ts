// Unchanged from step 08: steps/08-recovery/failed-executions.ts
/**
 * The dead queue: listing the jobs that failed their last attempt, and
 * putting them back.
 *
 * @module
 */

import { InputError } from "../../lib/input-error.ts";
import type { Database, Sql } from "../../lib/postgres/database.ts";
import type { FailedJobReport } from "../../lib/step.ts";

/** An id that cannot be a job's: job ids here are whole numbers. Nothing was retried. */
export class InvalidJobIdError extends InputError {
  override name = "InvalidJobIdError";
  constructor(
    readonly id: string,
    outcome: "retried" | "discarded" = "retried",
  ) {
    super(
      `${JSON.stringify(id)} is not a job id (a whole number, as listed by \`failed\`). Nothing was ${outcome}.`,
    );
  }
}

/** Every job in the dead queue, oldest failure first, with its error, stack and attempts. */
// #region failed
export async function listFailedJobs(sql: Sql): Promise<FailedJobReport[]> {
  const rows = await sql.query<{
    job_id: string;
    name: string;
    arguments: string;
    error: string;
    stack: string | null;
    attempts: number;
    failed_at: Date;
  }>(
    `SELECT failed.job_id, jobs.name, jobs.arguments, failed.error, failed.stack,
            failed.attempts, failed.failed_at
     FROM failed_executions AS failed JOIN jobs ON jobs.id = failed.job_id
     ORDER BY failed.failed_at, failed.job_id`,
  );
  return rows.map((row) => ({
    jobId: row.job_id,
    name: row.name,
    arguments: row.arguments,
    error: row.error,
    stack: row.stack,
    attempts: row.attempts,
    failedAt: row.failed_at,
  }));
}

/**
 * Moves jobs from the dead queue back to ready — the ids given, or all — and
 * resolves with the ids it moved. A job not in the dead queue (finished,
 * already retried, never existed) is skipped, not an error: two people
 * pressing "retry" at once put the job back once.
 *
 * The job gets a fresh set of attempts (its count starts again from 0): a
 * person looked at the error, fixed the cause, and wants the job to get its
 * full chance. Its last error stays on the job's row until a new one replaces
 * it.
 */
export async function retryFailedJobs(
  database: Database,
  which: readonly string[] | "all",
): Promise<string[]> {
  const invalid = which === "all" ? undefined : which.find((id) => !/^\d{1,18}$/.test(id));
  if (invalid !== undefined) throw new InvalidJobIdError(invalid);
  return database.transaction(async (tx) => {
    const rows = await tx.query<{ job_id: string }>(
      `WITH revived AS (
         DELETE FROM failed_executions
         WHERE $1::bigint[] IS NULL OR job_id = ANY($1::bigint[])
         RETURNING job_id
       ), reset AS (
         UPDATE jobs SET attempts = 0
         FROM revived WHERE jobs.id = revived.job_id
         RETURNING jobs.id, jobs.queue_name, jobs.priority
       )
       INSERT INTO ready_executions (job_id, queue_name, priority)
       SELECT id, queue_name, priority FROM reset
       RETURNING job_id`,
      [which === "all" ? null : which],
    );
    // Ring the workers' doorbell, as enqueue does (delivered on commit).
    if (rows.length > 0) await tx.query("SELECT pg_notify(current_schema(), '')");
    return rows.map((row) => row.job_id).sort((a, b) => Number(a) - Number(b));
  });
}
// #endregion failed

/**
 * Deletes jobs from the dead queue for good — the ids given, or all — and
 * resolves with the ids it deleted (the dashboard's "discard"). The job's
 * row goes, and its other rows with it (`ON DELETE CASCADE`): a job someone
 * chose to drop is not history worth keeping. Deleting the failed row first,
 * as the retry does, makes a retry and a discard of the same job at once
 * exclusive: whichever deletes the row first gets the job, the other skips it.
 */
export async function discardFailedJobs(
  sql: Sql,
  which: readonly string[] | "all",
): Promise<string[]> {
  const invalid = which === "all" ? undefined : which.find((id) => !/^\d{1,18}$/.test(id));
  if (invalid !== undefined) throw new InvalidJobIdError(invalid, "discarded");
  const rows = await sql.query<{ id: string }>(
    `WITH discarded AS (
       DELETE FROM failed_executions
       WHERE $1::bigint[] IS NULL OR job_id = ANY($1::bigint[])
       RETURNING job_id
     )
     DELETE FROM jobs USING discarded WHERE jobs.id = discarded.job_id
     RETURNING jobs.id`,
    [which === "all" ? null : which],
  );
  return rows.map((row) => row.id).sort((a, b) => Number(a) - Number(b));
}

/**
 * The poll: "give me the oldest job that is not finished".
 *
 * @module
 */
import type { StoredJob } from "../../lib/jobs/perform.ts";
import type { Sql } from "../../lib/postgres/database.ts";

/**
 * The talk's `Job.where(finished_at: nil).first`.
 *
 * No index knows which jobs are unfinished, so PostgreSQL reads every row —
 * a sequential scan and a sort, or a walk of the primary key in id order;
 * the planner picks, and either way it passes every finished job before it
 * reaches a waiting one. The table only grows, so every poll gets slower.
 *
 * Nothing is locked: two workers polling at the same moment get the same job.
 */
// #region poll
export const POLL_SQL = `SELECT id, name, arguments FROM jobs WHERE finished_at IS NULL ORDER BY id LIMIT 1`;

export async function findOldestWaitingJob(sql: Sql): Promise<StoredJob | undefined> {
  const [job] = await sql.query<StoredJob>(POLL_SQL);
  return job;
}
// #endregion poll

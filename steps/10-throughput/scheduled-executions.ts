// Unchanged from step 08: steps/08-recovery/scheduled-executions.ts
/**
 * Scheduled jobs: moving the ones that are due from scheduled_executions to
 * ready_executions.
 *
 * @module
 */
import type { Sql } from "../../lib/postgres/database.ts";
import type { ScheduledJobReport } from "../../lib/step.ts";

/** What one dispatch did, and when the next scheduled job is due. */
export interface Dispatched {
  /** How many jobs it moved to ready. */
  readonly moved: number;
  /** Milliseconds until the next job still scheduled is due (≤ 0: due now); `null` when none is. */
  readonly nextDueInMs: number | null;
}

/**
 * Moves up to `batchSize` due jobs (scheduled_at ≤ now, by the database's
 * clock) to ready, soonest first, in one statement — one transaction — and
 * rings the workers' doorbell if it moved any:
 *
 * 1. `due`: the due rows, `FOR UPDATE SKIP LOCKED`. Two dispatchers running
 *    this at the same instant lock disjoint sets: the second skips the rows
 *    the first holds, instead of waiting for them and then finding them
 *    gone — or worse, moving them again. A row is moved by whoever locked
 *    it, once. Served by `scheduled_executions_due (scheduled_at, job_id)`.
 * 2. `moved`: deletes exactly those rows, each looked up by its key. As an
 *    array, `= ANY (ARRAY(…))`, not `IN (SELECT …)`: for a batch of
 *    hundreds the planner made `IN` a join that read the whole table. With
 *    100,000 jobs scheduled for later and 500 due, one EXPLAIN ANALYZE of
 *    each form of this statement: 67 ms with `IN`, 6.3 ms by key — and a
 *    million jobs due at midnight would re-read what is left for every
 *    batch. (The last line's `NOT IN (SELECT job_id FROM due)` stays: it
 *    filters the walk of the due index through a small lookup of the
 *    batch's ids, and stops at the first row that stays.)
 * 3. `readied`: inserts them into ready_executions with their job's queue
 *    and priority.
 *
 * The last line also says when the next job that stays is due, so the
 * dispatcher can sleep until then instead of polling blindly. (The same
 * index serves it: the first entry not just moved.)
 *
 * In batches: a million jobs due at midnight are moved 500 at a time, each a
 * short transaction, instead of one that locks a million rows for a minute.
 */
// #region dispatch
export async function dispatchDueJobs(sql: Sql, batchSize: number): Promise<Dispatched> {
  const [row] = await sql.query<{ moved: number; next_due_in_ms: number | null }>(
    `WITH due AS (
       SELECT job_id FROM scheduled_executions
       WHERE scheduled_at <= now()
       ORDER BY scheduled_at, job_id
       LIMIT $1
       FOR UPDATE SKIP LOCKED
     ), moved AS (
       DELETE FROM scheduled_executions
       WHERE job_id = ANY (ARRAY(SELECT job_id FROM due))
       RETURNING job_id
     ), readied AS (
       INSERT INTO ready_executions (job_id, queue_name, priority)
       SELECT jobs.id, jobs.queue_name, jobs.priority
       FROM moved JOIN jobs ON jobs.id = moved.job_id
       RETURNING job_id
     )
     SELECT count(*)::int AS moved,
            CASE WHEN count(*) > 0 THEN pg_notify(current_schema(), '') END AS rang,
            (SELECT extract(epoch FROM min(scheduled_at) - now()) * 1000
             FROM scheduled_executions
             WHERE job_id NOT IN (SELECT job_id FROM due))::float8 AS next_due_in_ms
     FROM readied`,
    [batchSize],
  );
  return { moved: row?.moved ?? 0, nextDueInMs: row?.next_due_in_ms ?? null };
}
// #endregion dispatch

/**
 * The `limit` jobs due soonest, with when (the dashboard's "scheduled"
 * table): a walk from the start of `scheduled_executions_due`, the index the
 * dispatcher reads, joined to each job's row by its primary key.
 */
export async function listScheduledJobs(sql: Sql, limit: number): Promise<ScheduledJobReport[]> {
  const rows = await sql.query<{
    job_id: string;
    name: string;
    arguments: string;
    scheduled_at: Date;
    attempts: number;
  }>(
    `SELECT scheduled.job_id, jobs.name, jobs.arguments, scheduled.scheduled_at, jobs.attempts
     FROM scheduled_executions AS scheduled JOIN jobs ON jobs.id = scheduled.job_id
     ORDER BY scheduled.scheduled_at, scheduled.job_id
     LIMIT $1`,
    [limit],
  );
  return rows.map((row) => ({
    jobId: row.job_id,
    name: row.name,
    arguments: row.arguments,
    dueAt: row.scheduled_at,
    attempts: row.attempts,
  }));
}

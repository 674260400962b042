/**
 * Scheduled jobs: moving the ones that are due from scheduled_executions to
 * ready_executions.
 *
 * @module
 */
import type { Database, Sql } from "../../lib/postgres/database.ts";
import type { ScheduledJobReport } from "../../lib/step.ts";
import { admitBlockedJobs } from "./concurrency.ts";

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
 *
 * Step 11: a due job with a concurrency key does not go to ready: it joins
 * its key's blocked jobs (`blocked`), and the key admits what its free slots
 * allow — a retry of a job with a key, and a job scheduled for later, keep
 * their key and its limit. Admitting is more than one statement (see
 * `admitBlockedJobs`), so the whole dispatch is a transaction: the moved
 * jobs and their admission commit together, and no crash leaves a job
 * blocked behind a free slot.
 */
// #region dispatch
export async function dispatchDueJobs(database: Database, batchSize: number): Promise<Dispatched> {
  return database.transaction(async (tx) => {
    const [row] = await tx.query<{
      moved: number;
      keys: string[] | null;
      next_due_in_ms: number | null;
    }>(
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
         WHERE jobs.concurrency_key IS NULL
         RETURNING job_id
       ), blocked AS (
         INSERT INTO blocked_executions (job_id, concurrency_key)
         SELECT jobs.id, jobs.concurrency_key
         FROM moved JOIN jobs ON jobs.id = moved.job_id
         WHERE jobs.concurrency_key IS NOT NULL
         RETURNING concurrency_key
       )
       SELECT (SELECT count(*) FROM moved)::int AS moved,
              (SELECT array_agg(DISTINCT concurrency_key) FROM blocked) AS keys,
              CASE WHEN (SELECT count(*) FROM readied) > 0
                   THEN pg_notify(current_schema(), '') END AS rang,
              (SELECT extract(epoch FROM min(scheduled_at) - now()) * 1000
               FROM scheduled_executions
               WHERE job_id NOT IN (SELECT job_id FROM due))::float8 AS next_due_in_ms`,
      [batchSize],
    );
    await admitBlockedJobs(tx, row?.keys ?? []);
    return { moved: row?.moved ?? 0, nextDueInMs: row?.next_due_in_ms ?? null };
  });
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

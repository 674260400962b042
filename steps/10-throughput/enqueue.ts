/**
 * The enqueue side: write the job, mark it ready (or scheduled, for later)
 * and ring the workers' doorbell — in one statement (step 10).
 *
 * @module
 */
import { serializeArguments } from "../../lib/jobs/arguments.ts";
import type { Sql } from "../../lib/postgres/database.ts";
import type { NewJob } from "../../lib/step.ts";

/** The queue a job goes to unless told, and the one a worker serves unless told. */
export const DEFAULT_QUEUE = "default";
/** Lower runs first; the default leaves room on both sides (Que's convention). */
export const DEFAULT_PRIORITY = 100;

/**
 * Inserts jobs and their ready rows, and returns the jobs' ids in order.
 * Arguments are serialized (and so validated) before anything is sent: one
 * bad job refuses the whole batch.
 *
 * Step 10: **one statement**, so one round trip and one commit, where step
 * 08 sent six (BEGIN, three INSERTs, the NOTIFY, COMMIT) on one connection
 * held for all of them. A statement outside BEGIN … COMMIT is a transaction
 * of its own, so the job, its ready (or scheduled) row and the notification
 * are still all or nothing; and inside a transaction of yours it joins
 * yours, as step 08's did. A single enqueue now costs little more than one
 * `INSERT … RETURNING` (the step's benchmark measures both) — once it is a
 * prepared statement: planned each time, its four parts cost a quarter of a
 * millisecond of planning, as much as the INSERT's commit on a quiet
 * machine.
 *
 * How one statement writes three tables: data-modifying CTEs. The ids are
 * taken from the sequence first (`job`), so the ready and scheduled rows
 * can be written beside the jobs, not after them (PostgreSQL checks the
 * scheduled rows' foreign key at the end of the statement, when the jobs
 * are there; the ready rows have none in step 10: see schema.sql).
 * In bulk, `unnest` turns the arrays into rows: 1,000 jobs are one
 * statement with 5 parameters, not 1,000 INSERTs. Rejected: `COPY`. It
 * cannot return ids nor write three tables at once, `pg` needs another
 * package for it, and it was not faster: in `psql` on 2 cores, 1,000 rows
 * from a file into a copy of `jobs` took 10.8 ms, an `INSERT … SELECT` of
 * the same rows 8.7 (medians of twelve). It writes a page of rows at a
 * time, but still an index entry per row (the lesson has the bound on bulk
 * enqueue).
 */
// #region insert
export async function insertJobs(sql: Sql, jobs: readonly NewJob[]): Promise<string[]> {
  if (jobs.length === 0) return [];
  const names = jobs.map((job) => job.name);
  const args = jobs.map((job) => serializeArguments(job.args === undefined ? {} : job.args));
  const queues = jobs.map((job) => job.queue ?? DEFAULT_QUEUE);
  const priorities = jobs.map((job) => job.priority ?? DEFAULT_PRIORITY);
  const runAts = jobs.map((job) => job.runAt ?? null);
  // A job with a runAt still in the future (by the database's clock) waits
  // in scheduled_executions for the dispatcher; every other job is ready at
  // once. The NOTIFY is delivered when the statement commits, and never if
  // it fails; the cross join with its one row is what makes it run (a CTE
  // that only reads runs only if something reads it). Prepared: each
  // connection plans it once (see PreparedStatement).
  const enqueue = {
    name: "enqueue",
    text: `WITH job AS MATERIALIZED (
       SELECT nextval('jobs_id_seq') AS id, job.*
       FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::timestamptz[])
         WITH ORDINALITY AS job (name, arguments, queue_name, priority, run_at, position)
       ORDER BY position
     ), inserted AS (
       INSERT INTO jobs (id, name, arguments, queue_name, priority)
       SELECT id, name, arguments, queue_name, priority FROM job
     ), scheduled AS (
       INSERT INTO scheduled_executions (job_id, scheduled_at)
       SELECT id, run_at FROM job WHERE run_at > now()
     ), readied AS (
       INSERT INTO ready_executions (job_id, queue_name, priority)
       SELECT id, queue_name, priority FROM job WHERE run_at IS NULL OR run_at <= now()
     )
     SELECT job.id FROM job CROSS JOIN (SELECT pg_notify(current_schema(), '')) AS rang
     ORDER BY job.position`,
  };
  const rows = await sql.query<{ id: string }>(enqueue, [names, args, queues, priorities, runAts]);
  return rows.map((row) => row.id);
}
// #endregion insert

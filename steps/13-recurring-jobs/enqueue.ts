// Unchanged from step 08: steps/08-recovery/enqueue.ts
/**
 * The enqueue side: write the job, mark it ready (or scheduled, for later)
 * and ring the workers' doorbell, in one transaction.
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
 * Call it inside a transaction (`database.transaction(tx => insertJobs(tx, …))`),
 * yours if you like: a job enqueued in the same transaction as the order it
 * belongs to exists exactly when the order does. A job without its ready row
 * would never run, and a ready row without its job cannot exist (the foreign
 * key); the transaction makes the pair all or nothing, and the
 * notification with them.
 */
// #region insert
export async function insertJobs(tx: Sql, jobs: readonly NewJob[]): Promise<string[]> {
  if (jobs.length === 0) return [];
  const names = jobs.map((job) => job.name);
  const args = jobs.map((job) => serializeArguments(job.args === undefined ? {} : job.args));
  const queues = jobs.map((job) => job.queue ?? DEFAULT_QUEUE);
  const priorities = jobs.map((job) => job.priority ?? DEFAULT_PRIORITY);
  const runAts = jobs.map((job) => job.runAt ?? null);
  // unnest() turns the arrays into rows: one statement however many jobs,
  // with the values sent as parameters, never spliced into the SQL text.
  // WITH ORDINALITY … ORDER BY keeps the ids in the order of `jobs`.
  const rows = await tx.query<{ id: string }>(
    `INSERT INTO jobs (name, arguments, queue_name, priority)
     SELECT name, arguments, queue_name, priority
     FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[])
       WITH ORDINALITY AS job (name, arguments, queue_name, priority, position)
     ORDER BY position
     RETURNING id`,
    [names, args, queues, priorities],
  );
  const ids = rows.map((row) => row.id);
  // Step 07: a job with a runAt still in the future (by the database's
  // clock) waits in scheduled_executions for the dispatcher; every other job
  // is ready at once. now() is the transaction's start, the same in both.
  await tx.query(
    `INSERT INTO scheduled_executions (job_id, scheduled_at)
     SELECT id, run_at FROM unnest($1::bigint[], $2::timestamptz[]) AS job (id, run_at)
     WHERE run_at > now()`,
    [ids, runAts],
  );
  await tx.query(
    `INSERT INTO ready_executions (job_id, queue_name, priority)
     SELECT jobs.id, jobs.queue_name, jobs.priority
     FROM unnest($1::bigint[], $2::timestamptz[]) AS job (id, run_at)
     JOIN jobs ON jobs.id = job.id
     WHERE job.run_at IS NULL OR job.run_at <= now()`,
    [ids, runAts],
  );
  // Wake the listening workers. A NOTIFY is delivered when its transaction
  // commits, and never if it rolls back: no worker wakes for a job that does
  // not exist. The channel is the schema's name, so workers of another step
  // or test are not woken. No payload: the worker reads the ready table, the
  // truth, and PostgreSQL merges identical notifications of one transaction,
  // so a batch of 1,000 jobs rings once (a job id as payload would ring
  // 1,000 times, and could be missed anyway — see the lesson).
  await tx.query("SELECT pg_notify(current_schema(), '')");
  return ids;
}
// #endregion insert

// Unchanged from step 03: steps/03-listen-notify/enqueue.ts
/**
 * The enqueue side: write the job, mark it ready and ring the workers'
 * doorbell, in one transaction.
 *
 * @module
 */
import { serializeArguments } from "../../lib/jobs/arguments.ts";
import type { Sql } from "../../lib/postgres/database.ts";
import type { NewJob } from "../../lib/step.ts";

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
  // unnest() turns two arrays into rows: one statement however many jobs,
  // with the values sent as parameters, never spliced into the SQL text.
  const rows = await tx.query<{ id: string }>(
    `INSERT INTO jobs (name, arguments)
     SELECT * FROM unnest($1::text[], $2::text[])
     RETURNING id`,
    [names, args],
  );
  const ids = rows.map((row) => row.id);
  await tx.query("INSERT INTO ready_executions (job_id) SELECT unnest($1::bigint[])", [ids]);
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

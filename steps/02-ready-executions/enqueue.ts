/**
 * The enqueue side: write the job, and mark it ready, in one transaction.
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
 * key); the transaction makes the pair all or nothing.
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
  return ids;
}
// #endregion insert

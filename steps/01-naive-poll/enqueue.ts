/**
 * The enqueue side — the talk's queue adapter: writing a job is one INSERT.
 *
 * @module
 */
import { serializeArguments } from "../../lib/jobs/arguments.ts";
import type { Sql } from "../../lib/postgres/database.ts";
import type { NewJob } from "../../lib/step.ts";

/**
 * Inserts jobs in one statement and returns their ids in order. Arguments
 * are serialized (and so validated) before anything is sent: one bad job
 * refuses the whole batch.
 */
// #region insert
export async function insertJobs(sql: Sql, jobs: readonly NewJob[]): Promise<string[]> {
  if (jobs.length === 0) return [];
  const names = jobs.map((job) => job.name);
  const args = jobs.map((job) => serializeArguments(job.args === undefined ? {} : job.args));
  // unnest() turns two arrays into rows: one statement however many jobs,
  // with the values sent as parameters, never spliced into the SQL text.
  const rows = await sql.query<{ id: string }>(
    `INSERT INTO jobs (name, arguments)
     SELECT * FROM unnest($1::text[], $2::text[])
     RETURNING id`,
    [names, args],
  );
  return rows.map((row) => row.id);
}
// #endregion insert

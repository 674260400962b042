// Unchanged from step 02: steps/02-ready-executions/counts.ts
/**
 * How many jobs are in each state and in each queue, and history for the benchmark.
 *
 * @module
 */
import type { Sql } from "../../lib/postgres/database.ts";
import type { QueueReport } from "../../lib/step.ts";

/**
 * In step 02 a job is `ready` (it has a ready row), `finished`, or `failed`
 * (finished with an error). A running job still counts as ready: its row's
 * delete is not committed until the job is done, so nobody else sees it go.
 */
export async function countJobs(sql: Sql): Promise<Record<string, number>> {
  const [row] = await sql.query<{ ready: number; finished: number; failed: number }>(
    `SELECT (SELECT count(*) FROM ready_executions)::int AS ready,
            count(*) FILTER (WHERE finished_at IS NOT NULL AND error IS NULL)::int AS finished,
            count(*) FILTER (WHERE error IS NOT NULL)::int AS failed
     FROM jobs`,
  );
  return { ready: row?.ready ?? 0, finished: row?.finished ?? 0, failed: row?.failed ?? 0 };
}

/**
 * This step has one queue, `default`: its ready rows, each as old as its
 * `created_at`. A running job is still one of them, as in `ready`.
 */
export async function countReadyByQueue(sql: Sql): Promise<QueueReport[]> {
  const rows = await sql.query<{ queue: string; ready: number; oldest_ms: number }>(
    `SELECT 'default' AS queue,
            count(*)::int AS ready,
            (extract(epoch FROM now() - min(created_at)) * 1000)::float8 AS oldest_ms
     FROM ready_executions
     HAVING count(*) > 0`,
  );
  return rows.map((row) => ({
    queue: row.queue,
    ready: row.ready,
    oldestReadyAgeMs: row.oldest_ms,
  }));
}

/**
 * Inserts `count` jobs that finished long ago (they have no ready row), in
 * one statement, then refreshes the planner's statistics as autovacuum
 * eventually would (so the plan measured is the one a real table with this
 * history gets).
 */
export async function insertFinishedJobs(sql: Sql, count: number): Promise<void> {
  if (count <= 0) return;
  await sql.query(
    `INSERT INTO jobs (name, arguments, finished_at, created_at)
     SELECT 'Noop', '{}', now() - interval '1 day', now() - interval '1 day'
     FROM generate_series(1, $1)`,
    [count],
  );
  await sql.query("ANALYZE jobs, ready_executions");
}

// Unchanged from step 08: steps/08-recovery/counts.ts
/**
 * How many jobs are in each state and in each queue, and history for the benchmark.
 *
 * @module
 */
import type { Sql } from "../../lib/postgres/database.ts";
import type { QueueReport } from "../../lib/step.ts";

/**
 * From step 07 on a job is `ready` (it has a ready row), `scheduled` (waiting for
 * its time: enqueued for later, or failed and waiting for its retry),
 * `claimed` (a worker has claimed it and is running it — or died doing so),
 * `finished`, or `failed` (failed its last attempt: in the dead queue).
 */
export async function countJobs(sql: Sql): Promise<Record<string, number>> {
  const [row] = await sql.query<{
    ready: number;
    scheduled: number;
    claimed: number;
    finished: number;
    failed: number;
  }>(
    `SELECT (SELECT count(*) FROM ready_executions)::int AS ready,
            (SELECT count(*) FROM scheduled_executions)::int AS scheduled,
            (SELECT count(*) FROM claimed_executions)::int AS claimed,
            count(*) FILTER (WHERE finished_at IS NOT NULL)::int AS finished,
            (SELECT count(*) FROM failed_executions)::int AS failed
     FROM jobs`,
  );
  return {
    ready: row?.ready ?? 0,
    scheduled: row?.scheduled ?? 0,
    claimed: row?.claimed ?? 0,
    finished: row?.finished ?? 0,
    failed: row?.failed ?? 0,
  };
}

/**
 * The ready rows per named queue, each as old as its `created_at`: when it
 * became ready (enqueued, due, or back for a retry). A scheduled job is not
 * ready yet, so it is not counted here. `ready_executions` holds only
 * runnable jobs, so reading all of it stays cheap.
 */
export async function countReadyByQueue(sql: Sql): Promise<QueueReport[]> {
  const rows = await sql.query<{ queue: string; ready: number; oldest_ms: number }>(
    `SELECT queue_name AS queue,
            count(*)::int AS ready,
            (extract(epoch FROM now() - min(created_at)) * 1000)::float8 AS oldest_ms
     FROM ready_executions
     GROUP BY queue_name
     ORDER BY queue_name`,
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
  await sql.query(
    "ANALYZE jobs, ready_executions, scheduled_executions, claimed_executions, failed_executions",
  );
}

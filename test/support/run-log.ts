/**
 * A log of job runs in a table of the step's own schema — when each started
 * and ended, in which process — so a test can count how many jobs of one
 * key ran at once across worker processes, by the database's one clock.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineJob } from "../../lib/jobs/job.ts";
import type { Sql } from "../../lib/postgres/database.ts";

/** Creates the log table, if it is not there yet. */
export async function createRunLog(sql: Sql): Promise<void> {
  await sql.query(
    `CREATE TABLE IF NOT EXISTS runs (
       job_id     bigint NOT NULL,
       key        text NOT NULL,
       pid        integer NOT NULL,
       started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
       ended_at   timestamptz
     )`,
  );
}

/**
 * `LoggedRun`: logs its start; waits until `together` runs of its key are
 * open at once, or `total` jobs of its key have started (the last ones
 * cannot wait for company); holds for `ms` (its first run for `firstRunMs`,
 * if given: long enough for a test to stop or kill it mid-run);
 * logs its end. Waiting for company makes "this many at once" happen
 * whenever the queue allows it, not by luck of timing.
 */
export function loggedRunJob(sql: Sql) {
  return defineJob({
    name: "LoggedRun",
    description: "logs its start and end in the runs table",
    arguments: z.strictObject({
      key: z.string(),
      together: z.int().min(1),
      total: z.int().min(1),
      ms: z.int().min(0),
      firstRunMs: z.int().min(0).optional(),
    }),
    exampleArguments: { key: "account:1", together: 1, total: 1, ms: 0 },
    async perform({ key, together, total, ms, firstRunMs }, { jobId }) {
      const [logged] = await sql.query<{ runs: number }>(
        `WITH logged AS (INSERT INTO runs (job_id, key, pid) VALUES ($1, $2, $3))
         SELECT count(*)::int + 1 AS runs FROM runs WHERE job_id = $1`,
        [jobId, key, process.pid],
      );
      for (;;) {
        const [seen] = await sql.query<{ open: number; started: number }>(
          `SELECT count(*) FILTER (WHERE ended_at IS NULL)::int AS open,
                  count(DISTINCT job_id)::int AS started
           FROM runs WHERE key = $1`,
          [key],
        );
        if ((seen?.open ?? 0) >= together || (seen?.started ?? 0) >= total) break;
        await sleep(10); // the job's own work: waiting for company
      }
      await sleep(logged?.runs === 1 && firstRunMs !== undefined ? firstRunMs : ms);
      await sql.query(
        "UPDATE runs SET ended_at = clock_timestamp() WHERE job_id = $1 AND pid = $2 AND ended_at IS NULL",
        [jobId, process.pid],
      );
    },
  });
}

/**
 * The most runs of `key` open at one instant: at each start, the runs that
 * had started and not yet ended. A run a test killed is ended at the kill
 * ({@link endRunsOf}).
 */
export async function mostAtOnce(sql: Sql, key: string): Promise<number> {
  const [row] = await sql.query<{ most: number | null }>(
    `SELECT max((SELECT count(*) FROM runs AS other
                 WHERE other.key = run.key
                   AND other.started_at <= run.started_at
                   AND (other.ended_at IS NULL OR other.ended_at > run.started_at)))::int AS most
     FROM runs AS run WHERE run.key = $1`,
    [key],
  );
  return row?.most ?? 0;
}

/** The jobs of `key` in the order their first run started. */
export async function startOrder(sql: Sql, key: string): Promise<string[]> {
  const rows = await sql.query<{ job_id: string }>(
    `SELECT job_id FROM runs WHERE key = $1 GROUP BY job_id ORDER BY min(started_at)`,
    [key],
  );
  return rows.map((row) => row.job_id);
}

/** The database's clock now: the moment a test is about to kill a process. */
export async function databaseNow(sql: Sql): Promise<Date> {
  const [row] = await sql.query<{ now: Date }>("SELECT clock_timestamp() AS now");
  if (!row) throw new Error("clock_timestamp() returned no row.");
  return row.now;
}

/** Ends, at `at`, the runs process `pid` left open: it was killed then. */
export async function endRunsOf(sql: Sql, pid: number, at: Date): Promise<void> {
  await sql.query("UPDATE runs SET ended_at = $2 WHERE pid = $1 AND ended_at IS NULL", [pid, at]);
}

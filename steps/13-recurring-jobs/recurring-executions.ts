/**
 * Recurring executions: one row per tick of a schedule that was enqueued,
 * keyed by (schedule, tick). The key is what makes a tick happen once,
 * however many schedulers see it due.
 *
 * @module
 */
import type { Database, Sql } from "../../lib/postgres/database.ts";
import type { RecurringSchedule } from "../../lib/step.ts";
import { insertJobs } from "./enqueue.ts";

/** Points in a tick where a test can pause a scheduler, to kill it there or to let others in. */
export interface SchedulerHooks {
  /** The tick's key is written and its job not yet: the transaction holds the key, uncommitted. */
  afterKeyWritten?(scheduleName: string, tickAt: Date): Promise<void> | void;
}

/**
 * Enqueues the job of one tick, unless a scheduler already has: the key
 * and the job are written in one transaction, so there is never a key
 * without its job (a tick marked done that enqueued nothing) nor a job
 * without its key (a tick that the next scheduler enqueues again).
 * Resolves with the job's id, or `null` when the tick was another's.
 *
 * The key goes first, `ON CONFLICT DO NOTHING`. When two schedulers write
 * it at once, PostgreSQL makes the second wait for the first's transaction:
 * if it commits, the second's insert does nothing and returns no row; if it
 * rolls back — its process was killed mid-tick, say, and the server ended
 * its transaction when the connection dropped — the second's insert goes
 * through and enqueues the tick itself. Not lost, not doubled.
 *
 * The alternatives rejected: a plain INSERT that fails on the duplicate and
 * is rolled back (Solid Queue's way) is as correct, but every losing
 * scheduler writes an ERROR to the server's log on every tick — with ten
 * processes and a minutely schedule, fourteen thousand a day (GoodJob
 * #1230, #1446). Checking first with a SELECT races: both see no row, both
 * enqueue. And checking the jobs table for a job of this tick breaks when
 * finished jobs are cleaned up (GoodJob #731): the key must live in a table
 * of its own that nothing cleans behind the scheduler's back.
 */
// #region enqueue-tick
export async function enqueueTick(
  database: Database,
  schedule: RecurringSchedule,
  tickAt: Date,
  hooks: SchedulerHooks = {},
): Promise<string | null> {
  return database.transaction(async (tx) => {
    // The primary key (schedule_name, tick_at) is the conflict target.
    const written = await tx.query(
      `INSERT INTO recurring_executions (schedule_name, tick_at)
       VALUES ($1, $2)
       ON CONFLICT (schedule_name, tick_at) DO NOTHING
       RETURNING tick_at`,
      [schedule.name, tickAt],
    );
    if (written.length === 0) return null; // another scheduler's, committed
    await hooks.afterKeyWritten?.(schedule.name, tickAt);
    // Step 07's enqueue, unchanged: the job, its ready row, the doorbell.
    const [jobId] = await insertJobs(tx, [{ name: schedule.job, args: schedule.args ?? {} }]);
    await tx.query(
      "UPDATE recurring_executions SET job_id = $3 WHERE schedule_name = $1 AND tick_at = $2",
      [schedule.name, tickAt, jobId],
    );
    return jobId ?? null;
  });
}
// #endregion enqueue-tick

/** A schedule's latest tick that was enqueued, by any scheduler. */
export interface LastTick {
  readonly tickAt: Date;
  /** Its job; `null` once the job is deleted (the key stays: see schema.sql). */
  readonly jobId: string | null;
}

/**
 * The latest tick of each named schedule, in one statement: for each name,
 * a backward walk of the primary key (schedule_name, tick_at) that stops at
 * its first entry, however many ticks the table holds. Names that never
 * ticked are absent from the map.
 */
export async function lastTicks(
  sql: Sql,
  scheduleNames: readonly string[],
): Promise<Map<string, LastTick>> {
  const rows = await sql.query<{ name: string; tick_at: Date; job_id: string | null }>(
    `SELECT schedule.name, last.tick_at, last.job_id
     FROM unnest($1::text[]) AS schedule (name)
     JOIN LATERAL (
       SELECT tick_at, job_id FROM recurring_executions
       WHERE schedule_name = schedule.name
       ORDER BY tick_at DESC
       LIMIT 1
     ) AS last ON true`,
    [scheduleNames],
  );
  return new Map(rows.map((row) => [row.name, { tickAt: row.tick_at, jobId: row.job_id }]));
}

/**
 * The database's clock: the one time every scheduler, on every machine,
 * agrees on. Each process's own clock is off by a little, and each by a
 * different little; the ticks they compute from it would disagree near a
 * boundary.
 */
export async function databaseNow(sql: Sql): Promise<Date> {
  const [row] = await sql.query<{ now: Date }>("SELECT clock_timestamp() AS now");
  if (!row) throw new Error("SELECT clock_timestamp() returned no row.");
  return row.now;
}

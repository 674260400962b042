/**
 * Rate limits: claiming the ready jobs that have a rate key, no more of each
 * key than its window has room for, and saying when a key has room again.
 *
 * @module
 */
import type { StoredJob } from "../../lib/jobs/perform.ts";
import type { Database, Sql } from "../../lib/postgres/database.ts";
import type { RateLimitReport } from "../../lib/step.ts";

/** What a rate-limited claim took, and when the worker should look again. */
export interface RateLimitedClaim {
  readonly jobs: StoredJob[];
  /**
   * In how many milliseconds a key that has jobs waiting but no room left
   * gets room again (the soonest, if several); `null` when no job waits for
   * its limit.
   */
  readonly nextStartInMs: number | null;
}

/**
 * Claims up to `limit` ready jobs of `queue` that have a rate key, for
 * `processId`: of each key, no more than the room left in its current
 * window. Jobs beyond it stay in ready_executions as they are — not
 * claimed, no attempt counted, nothing to retry and nothing logged. One
 * transaction of three statements:
 *
 * 1. **Lock the keys** that have jobs ready in this queue (`FOR UPDATE`, in
 *    key order, so two claimers never wait for each other in a circle).
 *    Claims of one key now take turns, across every worker and process: the
 *    window's count cannot be read by two at once and both find room.
 *    Waited for, not skipped (`SKIP LOCKED`): a claimer that skipped a busy
 *    key would not know how much room the other left, and could sleep while
 *    it is unused.
 * 2. **Claim** ({@link RATE_LIMITED_CLAIM_SQL}) in a statement of its own,
 *    which begins only once the locks are ours. That is the point of the
 *    split: PostgreSQL (READ COMMITTED) gives each statement a snapshot
 *    taken when it starts. Had one statement waited for a key's lock, it
 *    would see the key's row as the previous holder left it — but the ready
 *    rows and claims as they were before that holder committed. This
 *    statement sees everything the previous holder did.
 * 3. **When next**: of the keys that still have jobs waiting here and no
 *    room, when the soonest window ends — how long the worker may sleep.
 */
// #region claim-rate-limited
export async function claimRateLimitedJobs(
  database: Database,
  processId: string,
  queue: string,
  limit: number,
): Promise<RateLimitedClaim> {
  return database.transaction(async (tx) => {
    // Served by ready_executions_rate_limited (queue_name, rate_key, …): the
    // keys of this queue's waiting jobs are the index's entries for the
    // queue, in key order. It reads each entry — a backlog of 10,000 limited
    // jobs is 10,000 entries per claim (a real system would keep a row per
    // key with jobs waiting); rate_limits by its primary key.
    const locked = await tx.query<{ key: string }>(
      `SELECT key FROM rate_limits
       WHERE key IN (SELECT DISTINCT rate_key FROM ready_executions
                     WHERE queue_name = $1 AND rate_key IS NOT NULL)
       ORDER BY key
       FOR UPDATE`,
      [queue],
    );
    if (locked.length === 0) return { jobs: [], nextStartInMs: null };
    const keys = locked.map((row) => row.key);
    const jobs = await tx.query<StoredJob>(RATE_LIMITED_CLAIM_SQL, [limit, processId, queue, keys]);
    return { jobs, nextStartInMs: await nextStartInMs(tx, queue, keys) };
  });
}
// #endregion claim-rate-limited

/**
 * The claim of the locked keys' jobs, in one statement:
 *
 * 1. `clock`: the time, read once — the database's (`rate_limit_clock()`,
 *    see schema.sql), never a worker's own.
 * 2. `windows`: each key's window at that time, `date_bin(period, now,
 *    epoch)` — the clock cut into periods from 1970 — and how many starts it
 *    has used: the stored count if it is for this window, else 0 (a new
 *    window begins).
 * 3. `picked`: of each key, its first ready jobs in claim order, as many as
 *    its window has room for; of those, the first `limit` in claim order.
 *    Served by ready_executions_rate_limited (queue_name, rate_key,
 *    priority, job_id): one short walk per key. No `SKIP LOCKED` needed:
 *    only the holder of a key's lock claims that key's jobs.
 * 4. `unready`, `claimed`, `counted`: as the ordinary claim (claims.ts),
 *    with the claim's time from the same clock, so a start is recorded in
 *    the window that counted it.
 * 5. `spent`: the keys' windows and counts, with what was taken.
 */
// #region rate-limited-claim
export const RATE_LIMITED_CLAIM_SQL = `
  WITH clock AS (
    SELECT rate_limit_clock() AS now
  ), windows AS (
    SELECT key, max_starts,
           date_bin(period, clock.now, 'epoch') AS current_window,
           CASE WHEN window_start = date_bin(period, clock.now, 'epoch')
                THEN started ELSE 0 END AS used
    FROM rate_limits, clock
    WHERE key = ANY($4::text[])
  ), picked AS (
    SELECT ready.job_id, ready.rate_key FROM windows
    CROSS JOIN LATERAL (
      SELECT job_id, rate_key, priority FROM ready_executions
      WHERE queue_name = $3 AND rate_key = windows.key
      ORDER BY priority, job_id
      LIMIT greatest(windows.max_starts - windows.used, 0)
    ) AS ready
    ORDER BY ready.priority, ready.job_id
    LIMIT $1
  ), unready AS (
    DELETE FROM ready_executions
    WHERE job_id IN (SELECT job_id FROM picked)
    RETURNING job_id, rate_key
  ), claimed AS (
    INSERT INTO claimed_executions (job_id, process_id, claimed_at)
    SELECT job_id, $2, (SELECT now FROM clock) FROM unready
    RETURNING job_id
  ), counted AS (
    UPDATE jobs SET attempts = attempts + 1
    FROM claimed WHERE jobs.id = claimed.job_id
    RETURNING jobs.id, jobs.name, jobs.arguments, jobs.attempts, jobs.priority
  ), spent AS (
    UPDATE rate_limits
    SET window_start = windows.current_window, started = windows.used + taken.count
    FROM windows
    JOIN (SELECT rate_key, count(*)::int AS count FROM unready GROUP BY rate_key) AS taken
      ON taken.rate_key = windows.key
    WHERE rate_limits.key = windows.key
  )
  SELECT id, name, arguments, attempts AS attempt
  FROM counted
  ORDER BY priority, id`;
// #endregion rate-limited-claim

/**
 * Of `keys`, those with jobs still waiting in `queue` and no room left in
 * their window: in how many milliseconds the first of those windows ends.
 * Run after the claim, in its transaction, so it sees the claim's counts.
 */
async function nextStartInMs(
  tx: Sql,
  queue: string,
  keys: readonly string[],
): Promise<number | null> {
  const [row] = await tx.query<{ next_start_in_ms: number | null }>(
    `SELECT (extract(epoch FROM min(window_start + period) - rate_limit_clock()) * 1000)::float8
              AS next_start_in_ms
     FROM rate_limits
     WHERE key = ANY($2::text[])
       AND started >= max_starts
       AND EXISTS (SELECT FROM ready_executions
                   WHERE queue_name = $1 AND rate_key = rate_limits.key)`,
    [queue, keys],
  );
  const ms = row?.next_start_in_ms ?? null;
  return ms === null ? null : Math.max(0, ms);
}

/**
 * Every rate key: its limit, its jobs waiting (ready, not started), how
 * many started in the current window, and in how long the next may start.
 * For `stats`; reads all of rate_limits, and the ready rows that have a key.
 */
export async function listRateLimits(sql: Sql): Promise<RateLimitReport[]> {
  const rows = await sql.query<{
    key: string;
    max_starts: number;
    period_ms: number;
    waiting: number;
    started_this_period: number;
    next_start_in_ms: number;
  }>(
    `WITH clock AS (SELECT rate_limit_clock() AS now),
     current AS (
       SELECT rate_limits.*, clock.now,
              CASE WHEN window_start = date_bin(period, clock.now, 'epoch')
                   THEN started ELSE 0 END AS used
       FROM rate_limits, clock
     )
     SELECT key, max_starts,
            (extract(epoch FROM period) * 1000)::float8 AS period_ms,
            (SELECT count(*) FROM ready_executions WHERE rate_key = current.key)::int AS waiting,
            used AS started_this_period,
            CASE WHEN used >= max_starts
                 THEN (extract(epoch FROM window_start + period - now) * 1000)::float8
                 ELSE 0 END AS next_start_in_ms
     FROM current
     ORDER BY key`,
  );
  return rows.map((row) => ({
    key: row.key,
    limit: row.max_starts,
    periodMs: row.period_ms,
    waiting: row.waiting,
    startedThisPeriod: row.started_this_period,
    nextStartInMs: row.next_start_in_ms,
  }));
}

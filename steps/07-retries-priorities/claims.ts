/**
 * Claiming ready jobs, and finishing claimed ones: two short transactions,
 * with the job run between them and outside both.
 *
 * @module
 */
import type { JobOutcome, StoredJob } from "../../lib/jobs/perform.ts";
import type { Sql } from "../../lib/postgres/database.ts";

/**
 * Claims up to `limit` ready jobs of `queue` for `processId`, the most urgent
 * first and, within a priority, the oldest first: locks their ready rows,
 * deletes them, inserts claimed rows, counts the attempt, and returns the
 * jobs. Committed when it returns — nobody waits on the job's lock while it
 * runs, because there is no lock any more: the claimed row is the record that
 * it is taken.
 *
 * One statement, so one transaction of its own (PostgreSQL runs every
 * statement outside BEGIN … COMMIT as a transaction): one round trip where
 * BEGIN / SELECT / INSERT / DELETE / UPDATE / COMMIT would take six. The
 * parts are the steps Solid Queue's `ReadyExecution.claim` takes:
 *
 * 1. `picked`: the first ready rows in claim order, `FOR UPDATE SKIP LOCKED`
 *    — rows another worker is claiming at this instant are skipped, not
 *    waited for. Served by `ready_executions_claim_order (queue_name,
 *    priority, job_id)`: an index scan of one queue's range, already in
 *    `priority, job_id` order, that stops after `limit` rows — however many
 *    thousands of jobs wait behind them.
 * 2. `unready`: deletes exactly those rows from ready_executions.
 * 3. `claimed`: inserts them into claimed_executions, with who claimed them.
 * 4. `counted` (step 07): one more attempt on the job's row — counted now,
 *    when it starts, so that an attempt whose worker dies is counted too.
 *
 * If the statement fails half-way, nothing of it happened: a job is never
 * neither ready nor claimed.
 *
 * `limit` is the worker's free slots: a worker with 20 slots and 20 ready
 * jobs claims all 20 in one statement, instead of 20 workers each asking for
 * one.
 */
// #region claim
export const CLAIM_SQL = `
  WITH picked AS (
    SELECT job_id FROM ready_executions
    WHERE queue_name = $3
    ORDER BY priority, job_id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  ), unready AS (
    DELETE FROM ready_executions
    WHERE job_id IN (SELECT job_id FROM picked)
    RETURNING job_id
  ), claimed AS (
    INSERT INTO claimed_executions (job_id, process_id)
    SELECT job_id, $2 FROM unready
    RETURNING job_id
  ), counted AS (
    UPDATE jobs SET attempts = attempts + 1
    FROM claimed WHERE jobs.id = claimed.job_id
    RETURNING jobs.id, jobs.name, jobs.arguments, jobs.attempts, jobs.priority
  )
  SELECT id, name, arguments, attempts AS attempt
  FROM counted
  ORDER BY priority, id`;

/**
 * Claims from the worker's queues in the order it lists them: the first
 * queue's jobs first, then — if slots are left — the next queue's. Priority
 * orders jobs within a queue; the list's order decides between queues (as in
 * Solid Queue). Why not one statement, `WHERE queue_name = ANY($queues)
 * ORDER BY priority, job_id`? No index holds several queues' ranges in one
 * `priority, job_id` order, so PostgreSQL would read every ready row of
 * those queues and sort them, on every claim (the lesson shows that plan):
 * with 5,000 jobs waiting, 5,000 rows read to take one. A statement per
 * queue reads only what it takes.
 */
export async function claimReadyJobs(
  sql: Sql,
  processId: string,
  queues: readonly string[],
  limit: number,
): Promise<StoredJob[]> {
  const claimed: StoredJob[] = [];
  for (const queue of queues) {
    if (claimed.length >= limit) break;
    claimed.push(
      ...(await sql.query<StoredJob>(CLAIM_SQL, [limit - claimed.length, processId, queue])),
    );
  }
  return claimed;
}
// #endregion claim

/**
 * What becomes of a claimed job after its attempt: finished; failed and to
 * be retried after `delayMs`; or failed for good, into the dead queue.
 */
export type Disposition =
  | { readonly kind: "finished" }
  | { readonly kind: "retry"; readonly delayMs: number; readonly error: string }
  | {
      readonly kind: "dead";
      readonly error: string;
      readonly stack: string | null;
    };

/** The disposition of `outcome`, given the delay before a retry, or `undefined` when none is left. */
export function dispose(outcome: JobOutcome, retryDelayMs: number | undefined): Disposition {
  if (outcome.status === "finished") return { kind: "finished" };
  if (retryDelayMs !== undefined) {
    return { kind: "retry", delayMs: retryDelayMs, error: outcome.error };
  }
  return { kind: "dead", error: outcome.error, stack: outcome.stack };
}

/**
 * Records the outcome and gives up the claim, in one statement (and so one
 * transaction): the job leaves claimed_executions exactly when it arrives
 * where it goes next. Each goes by job_id, a primary key lookup. Resolves
 * with when the retry is due (epoch ms), for a retry.
 *
 * - finished: the claim goes, `finished_at` is set;
 * - retry (step 07): the claim goes, a scheduled row due in `delayMs` (by
 *   the database's clock) comes, and the job keeps the error;
 * - dead (step 07): the claim goes, a failed_executions row with the error,
 *   the stack and the attempt count comes.
 *
 * Every write is for the row `released` deleted, so a finish sent a second
 * time changes nothing: the worker tries again when a finish fails, and a
 * finish whose COMMIT went through just as the connection broke looks
 * failed to it. Written by job_id alone, the second one would schedule the
 * job twice (or fail on the dead queue's primary key, for ever).
 *
 * The job has already run when this is sent. If the worker dies before it
 * commits, the job ran but stays claimed: a crash between claim and finish
 * leaves the claim behind — step 08 recovers it, and runs the job again.
 */
// #region finish
export async function finishClaimedJob(
  sql: Sql,
  job: Pick<StoredJob, "id">,
  disposition: Disposition,
): Promise<number | undefined> {
  const released = `WITH released AS (
       DELETE FROM claimed_executions WHERE job_id = $1
       RETURNING job_id
     )`;
  switch (disposition.kind) {
    case "finished":
      await sql.query(
        `${released}
         UPDATE jobs SET finished_at = now()
         WHERE id IN (SELECT job_id FROM released)`,
        [job.id],
      );
      return undefined;
    case "retry": {
      const [row] = await sql.query<{ retry_at: Date }>(
        `${released}, rescheduled AS (
           INSERT INTO scheduled_executions (job_id, scheduled_at)
           SELECT job_id, now() + make_interval(secs => $3 / 1000.0) FROM released
           RETURNING scheduled_at
         ), noted AS (
           UPDATE jobs SET error = $2 WHERE id IN (SELECT job_id FROM released)
         )
         SELECT scheduled_at AS retry_at FROM rescheduled`,
        [job.id, disposition.error, disposition.delayMs],
      );
      return row?.retry_at.getTime();
    }
    case "dead":
      await sql.query(
        `${released}, buried AS (
           INSERT INTO failed_executions (job_id, error, stack, attempts)
           SELECT id, $2, $3, attempts FROM jobs WHERE id IN (SELECT job_id FROM released)
         )
         UPDATE jobs SET error = $2 WHERE id IN (SELECT job_id FROM released)`,
        [job.id, disposition.error, disposition.stack],
      );
      return undefined;
  }
}
// #endregion finish

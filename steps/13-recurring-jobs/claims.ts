// Unchanged from step 08: steps/08-recovery/claims.ts
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
 * transaction) — **if the claim is still this process's**. Step 08 can take
 * a claim away: from a process it took for dead (recovery), or from one that
 * stopped before the job ended (release on shutdown). The job then runs, or
 * has run, again elsewhere; this late outcome must change nothing, or the
 * job would be finished and ready at once. So every branch starts from
 * `released` — the claim deleted WHERE it is still ours — and writes only
 * for the row that deleted. Resolves with whether it was still ours, and
 * when the retry is due (epoch ms), for a retry.
 *
 * - finished: the claim goes, `finished_at` is set;
 * - retry: the claim goes, a scheduled row due in `delayMs` (by the
 *   database's clock) comes, and the job keeps the error;
 * - dead: the claim goes, a failed_executions row with the error, the stack
 *   and the attempt count comes.
 */
// #region finish
export async function finishClaimedJob(
  sql: Sql,
  job: Pick<StoredJob, "id">,
  processId: string,
  disposition: Disposition,
): Promise<{ readonly stillOurs: boolean; readonly retryAt?: number }> {
  const released = `WITH released AS (
       DELETE FROM claimed_executions WHERE job_id = $1 AND process_id = $2
       RETURNING job_id
     )`;
  switch (disposition.kind) {
    case "finished": {
      const rows = await sql.query(
        `${released}
         UPDATE jobs SET finished_at = now()
         WHERE id IN (SELECT job_id FROM released)
         RETURNING id`,
        [job.id, processId],
      );
      return { stillOurs: rows.length > 0 };
    }
    case "retry": {
      const [row] = await sql.query<{ retry_at: Date }>(
        `${released}, rescheduled AS (
           INSERT INTO scheduled_executions (job_id, scheduled_at)
           SELECT job_id, now() + make_interval(secs => $4 / 1000.0) FROM released
           RETURNING scheduled_at
         ), noted AS (
           UPDATE jobs SET error = $3 WHERE id IN (SELECT job_id FROM released)
         )
         SELECT scheduled_at AS retry_at FROM rescheduled`,
        [job.id, processId, disposition.error, disposition.delayMs],
      );
      return row ? { stillOurs: true, retryAt: row.retry_at.getTime() } : { stillOurs: false };
    }
    case "dead": {
      const rows = await sql.query(
        `${released}, buried AS (
           INSERT INTO failed_executions (job_id, error, stack, attempts)
           SELECT id, $3, $4, attempts FROM jobs WHERE id IN (SELECT job_id FROM released)
         )
         UPDATE jobs SET error = $3 WHERE id IN (SELECT job_id FROM released)
         RETURNING id`,
        [job.id, processId, disposition.error, disposition.stack],
      );
      return { stillOurs: rows.length > 0 };
    }
  }
}
// #endregion finish

/**
 * Gives the claims of `processId` back to ready: what a worker that stops
 * does with the jobs it could not finish in time (graceful shutdown). The
 * attempt is not counted — the job did not fail, its worker left — so the
 * count goes back down. The jobs may still be running in this process; if
 * they end later, their finish finds the claim gone and changes nothing
 * (see {@link finishClaimedJob}), while another worker runs them again.
 */
// #region release
export async function releaseClaimsOf(
  sql: Sql,
  processId: string,
): Promise<{ readonly jobId: string; readonly name: string }[]> {
  const rows = await sql.query<{ job_id: string; name: string }>(
    `WITH released AS (
       DELETE FROM claimed_executions WHERE process_id = $1
       RETURNING job_id
     ), uncounted AS (
       UPDATE jobs SET attempts = attempts - 1
       FROM released WHERE jobs.id = released.job_id
       RETURNING jobs.id, jobs.name, jobs.queue_name, jobs.priority
     ), readied AS (
       INSERT INTO ready_executions (job_id, queue_name, priority)
       SELECT id, queue_name, priority FROM uncounted
       RETURNING job_id
     )
     SELECT uncounted.id AS job_id, uncounted.name, pg_notify(current_schema(), '')
     FROM uncounted JOIN readied ON readied.job_id = uncounted.id
     ORDER BY uncounted.id`,
    [processId],
  );
  return rows.map((row) => ({ jobId: row.job_id, name: row.name }));
}
// #endregion release

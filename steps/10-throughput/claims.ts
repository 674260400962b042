/**
 * Claiming ready jobs, and finishing claimed ones: two short transactions,
 * with the job run between them and outside both — each for a batch of jobs
 * (step 10), not for one.
 *
 * @module
 */
import type { JobOutcome, StoredJob } from "../../lib/jobs/perform.ts";
import type { PreparedStatement, Sql } from "../../lib/postgres/database.ts";

/**
 * Claims up to `limit` ready jobs of `queue` for `processId`, the most urgent
 * first and, within a priority, the oldest first: locks their ready rows,
 * deletes them, inserts claimed rows, and returns the jobs. Committed when it returns — nobody waits on the job's lock while it
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
 *    waited for. Served by the table's primary key, `(queue_name,
 *    priority, job_id)`: an index scan of one queue's range, already in
 *    `priority, job_id` order, that stops after `limit` rows — however many
 *    thousands of jobs wait behind them.
 * 2. `unready`: deletes exactly those rows from ready_executions, found by
 *    their `ctid` — a row's physical address, which cannot change while
 *    `picked` holds its lock, because ready rows are only inserted and
 *    deleted, never updated (an update would move a row to a new address
 *    this statement cannot see). PostgreSQL fetches each row straight from
 *    its page (a "Tid Scan"). Step 10: step 08's `WHERE job_id IN (SELECT
 *    job_id FROM picked)` had the job_id index this step drops (schema.sql),
 *    and even with it, for a claim of hundreds the planner read the whole
 *    ready table and hash-joined it: in one EXPLAIN ANALYZE each, with
 *    20,000 jobs ready, 7.9 ms to delete 510 rows that way, 1.2 ms by
 *    address — and the scan grows with the backlog. Deleting by the whole
 *    key was planned the same way as 08's.
 * 3. `claimed`: inserts them into claimed_executions, with who claimed them:
 *    `claimer`, the claiming process's row, read once and locked `FOR KEY
 *    SHARE` until the claim commits. Step 10 has no foreign key from a
 *    claim to its process (schema.sql); this is what its check did for
 *    every row, done once. Recovery deletes a dead process's row with `FOR
 *    UPDATE SKIP LOCKED`, so it passes over a row a claim has locked, and a
 *    claim that comes while recovery holds the row waits, then finds it
 *    gone. A claimer whose row is gone — its process was taken for dead and
 *    pruned — reads as NULL, and the NOT NULL of `process_id` refuses the
 *    whole claim, as step 08's foreign key did: the jobs stay ready, and the
 *    claiming loop registers again (claim-loop.ts). (Rather than filter the
 *    picked rows on the claimer's row being there: such a claim would take
 *    nothing, quietly, and the worker would learn that it was pruned only
 *    from its next heartbeat, up to 10 s later.)
 * 4. The jobs' rows are read, not written: the attempt's number is one more
 *    than the attempts counted so far.
 *
 * Step 10 counts an attempt when it ends, not when it starts: in the
 * statement that writes its outcome ({@link finishClaimedJobs}), which
 * writes the job's row anyway — or, for an attempt whose worker died, in
 * recovery's, which writes it too (recovery.ts). Step 07 counted it here, an
 * UPDATE of every claimed job's row: a fifth of the rows a job costs the
 * database, for a number that nothing reads until the attempt has ended.
 * Measured with the step's throughput probe, dropping it took the worker
 * from ×0.81 to ×0.87 of graphile-worker batched in the same run. The count
 * still includes every attempt that started and ended or died; an attempt
 * given back unstarted or at a stop (see {@link releaseClaimsOf}) is not
 * counted, as before.
 *
 * If the statement fails half-way, nothing of it happened: a job is never
 * neither ready nor claimed.
 *
 * `limit` is the room in the worker's local buffer (step 10; step 08
 * claimed as many as it had free slots): a worker with 10 slots and a batch
 * size of 500 claims up to 510 jobs in one statement — one commit for
 * hundreds of jobs where step 08 spent one for each few. Prepared, like the
 * finish and the enqueue: each connection plans it once (see
 * `PreparedStatement`).
 */
// #region claim
export const CLAIM: PreparedStatement = {
  name: "claim",
  text: `
  WITH claimer AS (
    SELECT id FROM processes WHERE id = $2 FOR KEY SHARE
  ), picked AS (
    SELECT ctid FROM ready_executions
    WHERE queue_name = $3
    ORDER BY priority, job_id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  ), unready AS (
    DELETE FROM ready_executions
    WHERE ctid = ANY (ARRAY(SELECT ctid FROM picked))
    RETURNING job_id
  ), claimed AS (
    INSERT INTO claimed_executions (job_id, process_id)
    SELECT job_id, (SELECT id FROM claimer) FROM unready
    RETURNING job_id
  )
  SELECT jobs.id, jobs.name, jobs.arguments, jobs.attempts + 1 AS attempt
  FROM claimed JOIN jobs ON jobs.id = claimed.job_id
  ORDER BY jobs.priority, jobs.id`,
};

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
      ...(await sql.query<StoredJob>(CLAIM, [limit - claimed.length, processId, queue])),
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

/** A claimed job's outcome, to be recorded under the claim of `processId`. */
export interface ClaimOutcome {
  readonly jobId: string;
  readonly processId: string;
  readonly disposition: Disposition;
}

/** What recording one outcome did: whether the claim was still ours, and when a retry is due. */
export interface RecordedClaim {
  readonly stillOurs: boolean;
  /** For a retry: when it is due, epoch ms. */
  readonly retryAt?: number;
}

/**
 * Records outcomes and gives up their claims — **each only if the claim is
 * still that process's** — in one statement, and so one transaction and one
 * commit, however many outcomes and of whichever kinds. Resolves with one
 * {@link RecordedClaim} per outcome, in order.
 *
 * Step 08 wrote one outcome per statement: a commit per job, the wall this
 * step is about. Here a worker collects the outcomes of a few milliseconds
 * (see finisher.ts) and writes them together, and recovery writes all of a
 * dead process's jobs at once. The rules are 08's, row by row:
 *
 * - `released`: the claim deleted WHERE it is still this process's. A claim
 *   taken away (recovery took the process for dead, or a stop released it)
 *   deletes nothing, and every other part writes only for rows released
 *   here: a late outcome changes nothing.
 * - every kind: the attempt counted (step 10: when it ends, see
 *   {@link claimReadyJobs});
 * - finished: `finished_at` set;
 * - retry: a scheduled row due in `delay_ms` (by the database's clock), and
 *   the job keeps the error;
 * - dead: a failed_executions row with the error, the stack and the attempt
 *   count, and the job keeps the error.
 *
 * Each part reads `released` and writes its own table, so the three kinds
 * sit side by side in one statement instead of three. The claims go by
 * `claimed_executions`' primary key, the jobs by theirs.
 */
// #region finish
export async function finishClaimedJobs(
  sql: Sql,
  outcomes: readonly ClaimOutcome[],
): Promise<RecordedClaim[]> {
  if (outcomes.length === 0) return [];
  const field = <T>(pick: (disposition: Disposition) => T) =>
    outcomes.map((outcome) => pick(outcome.disposition));
  const finish: PreparedStatement = {
    name: "finish",
    text: `WITH outcome AS (
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::float8[], $5::text[], $6::text[])
         AS outcome (job_id, process_id, kind, delay_ms, error, stack)
     ), released AS (
       DELETE FROM claimed_executions AS claimed USING outcome
       WHERE claimed.job_id = outcome.job_id AND claimed.process_id = outcome.process_id
       RETURNING outcome.*
     ), recorded AS (
       UPDATE jobs
       SET attempts = jobs.attempts + 1,
           finished_at = CASE WHEN released.kind = 'finished' THEN now() END,
           error = CASE WHEN released.kind = 'finished' THEN jobs.error ELSE released.error END
       FROM released WHERE jobs.id = released.job_id
       RETURNING jobs.id, jobs.attempts
     ), rescheduled AS (
       INSERT INTO scheduled_executions (job_id, scheduled_at)
       SELECT job_id, now() + make_interval(secs => delay_ms / 1000.0)
       FROM released WHERE kind = 'retry'
       RETURNING job_id, scheduled_at
     ), buried AS (
       INSERT INTO failed_executions (job_id, error, stack, attempts)
       SELECT released.job_id, released.error, released.stack, recorded.attempts
       FROM released JOIN recorded ON recorded.id = released.job_id
       WHERE released.kind = 'dead'
     )
     SELECT released.job_id, rescheduled.scheduled_at AS retry_at
     FROM released LEFT JOIN rescheduled USING (job_id)`,
  };
  const rows = await sql.query<{ job_id: string; retry_at: Date | null }>(finish, [
    outcomes.map((outcome) => outcome.jobId),
    outcomes.map((outcome) => outcome.processId),
    field((disposition) => disposition.kind),
    field((disposition) => (disposition.kind === "retry" ? disposition.delayMs : null)),
    field((disposition) => (disposition.kind === "finished" ? null : disposition.error)),
    field((disposition) => (disposition.kind === "dead" ? disposition.stack : null)),
  ]);
  const recorded = new Map(rows.map((row) => [row.job_id, row.retry_at]));
  return outcomes.map((outcome) => {
    if (!recorded.has(outcome.jobId)) return { stillOurs: false };
    const retryAt = recorded.get(outcome.jobId);
    return retryAt ? { stillOurs: true, retryAt: retryAt.getTime() } : { stillOurs: true };
  });
}
// #endregion finish

/**
 * Gives claims of `processId` back to ready — all of them, or only the jobs
 * `jobIds` (step 10: the jobs a stopping worker had claimed ahead and not
 * started). What a worker that stops does with the jobs it could not finish
 * in time (graceful shutdown). The attempt is not counted — the job did not
 * fail, its worker left — and in step 10 it was never counted: attempts are
 * counted when they end (see {@link claimReadyJobs}). The jobs may still be
 * running in this process; if they end later, their finish finds the claim
 * gone and changes nothing (see {@link finishClaimedJobs}), while another
 * worker runs them again.
 */
// #region release
export async function releaseClaimsOf(
  sql: Sql,
  processId: string,
  jobIds: readonly string[] | "all" = "all",
): Promise<{ readonly jobId: string; readonly name: string }[]> {
  const rows = await sql.query<{ job_id: string; name: string }>(
    `WITH released AS (
       DELETE FROM claimed_executions
       WHERE process_id = $1 AND ($2::bigint[] IS NULL OR job_id = ANY($2::bigint[]))
       RETURNING job_id
     ), readied AS (
       INSERT INTO ready_executions (job_id, queue_name, priority)
       SELECT jobs.id, jobs.queue_name, jobs.priority
       FROM released JOIN jobs ON jobs.id = released.job_id
       RETURNING job_id
     )
     SELECT jobs.id AS job_id, jobs.name, pg_notify(current_schema(), '')
     FROM readied JOIN jobs ON jobs.id = readied.job_id
     ORDER BY jobs.id`,
    [processId, jobIds === "all" ? null : jobIds],
  );
  return rows.map((row) => ({ jobId: row.job_id, name: row.name }));
}
// #endregion release

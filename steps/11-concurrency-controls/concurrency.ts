/**
 * Concurrency keys: a job with a key gets a ready row only while its key has
 * a free slot; otherwise it waits in blocked_executions until a transaction
 * that frees a slot of its key admits it.
 *
 * @module
 */
import type { Sql } from "../../lib/postgres/database.ts";
import type { ConcurrencyKeyReport } from "../../lib/step.ts";

/**
 * Locks the rows of `keys` in `concurrency_keys`, in key order, until the
 * transaction ends. Every transaction that changes how many slots of a key
 * are taken, or admits a job to one, holds its key's lock first: two
 * admissions of one key then run one after the other, and the second
 * counts the slots the first took.
 *
 * Always in key order, and always before any other row the transaction
 * locks (a claimed row, say): two transactions that take locks in the same
 * order cannot each wait for the other — a batch enqueued for keys `a` and
 * `b` and a recovery of jobs of `b` and `a` would deadlock otherwise.
 *
 * `FOR NO KEY UPDATE`, not `FOR UPDATE`: it conflicts with itself, which
 * is all the serializing needed, and not with the `FOR KEY SHARE` lock that
 * PostgreSQL takes on this row for the foreign key of every blocked row
 * inserted. With `FOR UPDATE`, a dispatch that had just blocked a job of
 * key K (holding KEY SHARE) and an enqueue that had upserted K (holding NO
 * KEY UPDATE, the upsert's lock) would each wait to upgrade past the other:
 * a deadlock, which an early version of this step ran into.
 *
 * Why a row lock, and not `pg_advisory_xact_lock(hashtext(key))`? Both
 * serialize per key; the row is needed anyway for the limit, and a lock on
 * it shows in `pg_locks` as a row anyone can look up, where an advisory
 * lock is a number (and two keys whose hashes collide would share one).
 */
// #region lock
export async function lockConcurrencyKeys(tx: Sql, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await tx.query(
    "SELECT key FROM concurrency_keys WHERE key = ANY($1::text[]) ORDER BY key FOR NO KEY UPDATE",
    [keys],
  );
}
// #endregion lock

/**
 * Moves the oldest blocked jobs of each of `keys` to ready, as many as the
 * key has free slots, and rings the workers' doorbell if it moved any. Call
 * it inside a transaction, after whatever freed slots or blocked jobs in
 * it: the finish of a job with a key, its recovery, an enqueue, a dispatch,
 * a retry from the dead queue. So a slot freed is a slot filled, in the same
 * commit — nothing waits for a timer, and no crash can fall between the
 * two.
 *
 * Two statements, and they must be two. The first locks the keys (see
 * {@link lockConcurrencyKeys}). The second counts the taken slots: the
 * ready and claimed rows of the key (each count an index scan of
 * `ready_executions_concurrency_key` / `claimed_executions_concurrency_key`,
 * at most `max_running` entries), and moves up to `max_running − taken`
 * blocked jobs in job id order (`blocked_executions_admission_order`). In
 * READ COMMITTED each statement sees what was committed when *it* started.
 * Counted in the statement that took the lock, the slots would be those of
 * the moment before it waited for the lock — stale by whatever the
 * transaction it waited for committed, and the limit could be passed.
 *
 * Counting rows instead of keeping a counter (Solid Queue's semaphores keep
 * one: `value`, decremented on start, incremented on finish) costs a count
 * of at most `max_running` index entries per admission. What it buys: a
 * slot is a ready or claimed row, so giving one back is deleting that row,
 * and a row is deleted once — however many hands (a finish, a pruner, a
 * second pruner) reach for it. A counter incremented by two of them is Solid
 * Queue #761, where a job limited to 1 ran 11 times at once.
 */
// #region admit
export async function admitBlockedJobs(tx: Sql, keys: readonly (string | null)[]): Promise<number> {
  const distinct = [...new Set(keys.filter((key) => key !== null))].sort();
  if (distinct.length === 0) return 0;
  await lockConcurrencyKeys(tx, distinct);
  return admitToFreeSlots(tx, distinct);
}

/**
 * {@link admitBlockedJobs} for keys this transaction has locked already
 * (the finish of a job with a key locks its key first): one round trip
 * fewer.
 */
export async function admitToFreeSlots(tx: Sql, lockedKeys: readonly string[]): Promise<number> {
  const [row] = await tx.query<{ admitted: number }>(
    `WITH taken AS (
       SELECT key, max_running,
              (SELECT count(*) FROM ready_executions WHERE concurrency_key = keys.key)
            + (SELECT count(*) FROM claimed_executions WHERE concurrency_key = keys.key) AS taken
       FROM concurrency_keys AS keys
       WHERE key = ANY($1::text[])
     ), chosen AS (
       SELECT oldest.job_id
       FROM taken CROSS JOIN LATERAL (
         SELECT job_id FROM blocked_executions
         WHERE concurrency_key = taken.key
         ORDER BY job_id
         LIMIT greatest(taken.max_running - taken.taken, 0)
       ) AS oldest
     ), unblocked AS (
       DELETE FROM blocked_executions
       WHERE job_id IN (SELECT job_id FROM chosen)
       RETURNING job_id, concurrency_key
     ), admitted AS (
       INSERT INTO ready_executions (job_id, queue_name, priority, concurrency_key)
       SELECT jobs.id, jobs.queue_name, jobs.priority, unblocked.concurrency_key
       FROM unblocked JOIN jobs ON jobs.id = unblocked.job_id
       RETURNING job_id
     )
     SELECT count(*)::int AS admitted,
            CASE WHEN count(*) > 0 THEN pg_notify(current_schema(), '') END AS rang
     FROM admitted`,
    [lockedKeys],
  );
  return row?.admitted ?? 0;
}
// #endregion admit

/**
 * Inserts (or updates) the rows of the keys `jobs` name, with the limit the
 * last of them gives — the limit is a property of the key, and the latest
 * enqueue says what it is now (a deploy that changes it takes effect at the
 * next enqueue). In key order, as every lock on these rows is taken.
 */
export async function upsertConcurrencyKeys(
  tx: Sql,
  limits: readonly { readonly key: string; readonly limit: number }[],
): Promise<void> {
  if (limits.length === 0) return;
  await tx.query(
    `INSERT INTO concurrency_keys (key, max_running)
     SELECT DISTINCT ON (key) key, max_running
     FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS given (key, max_running, position)
     ORDER BY key, position DESC
     ON CONFLICT (key) DO UPDATE SET max_running = excluded.max_running
       WHERE concurrency_keys.max_running <> excluded.max_running`,
    [limits.map((given) => given.key), limits.map((given) => given.limit)],
  );
}

/**
 * The keys that have jobs holding a slot or waiting for one, the most
 * blocked first: what `stats` prints. A key whose jobs have all run has no
 * line. Reads all of blocked_executions and the keyed ready and claimed
 * rows — a look for a person, not a query for the hot path.
 */
export async function listConcurrencyKeys(sql: Sql): Promise<ConcurrencyKeyReport[]> {
  const rows = await sql.query<{
    key: string;
    max_running: number;
    admitted: number;
    blocked: number;
    oldest_blocked_ms: number | null;
  }>(
    `WITH admitted AS (
       SELECT concurrency_key AS key, count(*)::int AS admitted FROM (
         SELECT concurrency_key FROM ready_executions WHERE concurrency_key IS NOT NULL
         UNION ALL
         SELECT concurrency_key FROM claimed_executions WHERE concurrency_key IS NOT NULL
       ) AS slots GROUP BY concurrency_key
     ), blocked AS (
       SELECT concurrency_key AS key, count(*)::int AS blocked,
              (extract(epoch FROM now() - min(created_at)) * 1000)::float8 AS oldest_blocked_ms
       FROM blocked_executions GROUP BY concurrency_key
     )
     SELECT keys.key, keys.max_running, coalesce(admitted.admitted, 0) AS admitted,
            coalesce(blocked.blocked, 0) AS blocked, blocked.oldest_blocked_ms
     FROM concurrency_keys AS keys
     LEFT JOIN admitted ON admitted.key = keys.key
     LEFT JOIN blocked ON blocked.key = keys.key
     WHERE admitted.key IS NOT NULL OR blocked.key IS NOT NULL
     ORDER BY coalesce(blocked.blocked, 0) DESC, keys.key`,
  );
  return rows.map((row) => ({
    key: row.key,
    limit: row.max_running,
    admitted: row.admitted,
    blocked: row.blocked,
    oldestBlockedAgeMs: row.oldest_blocked_ms,
  }));
}

/**
 * Where step 04 keeps its data: a handful of Redis keys, all under the instance's namespace
 * (`step_04:queue:default`, …). This file plays the part of a Postgres step's `schema.sql`.
 *
 * The names are written here without the namespace: the connection adds `${namespace}:` to
 * every key it sends (ioredis `keyPrefix`, see `lib/redis/connection.ts`).
 *
 * @module
 */

// #region keys
/** The name of the one queue; named queues arrive in step 07. */
export const QUEUE_NAME = "default";

/**
 * The queue: a list of waiting jobs, each one JSON text (see `payload.ts`). Enqueue pushes on
 * the left, workers pop from the right, so the oldest job comes out first. One queue for now;
 * Sidekiq names them `queue:<name>`, and so does this, for when named queues arrive (step 07).
 */
export const QUEUE = `queue:${QUEUE_NAME}`;

/** A counter: the last job id handed out (`INCR`), so ids are unique across processes. */
export const LAST_JOB_ID = "last-job-id";

/** Counters, as Sidekiq's `stat:processed` / `stat:failed`: how many jobs were … */
export const ENQUEUED = "stats:enqueued"; // … pushed onto the queue,
export const FINISHED = "stats:finished"; // … run to the end by a worker,
export const FAILED = "stats:failed"; // … run and failed (or were unreadable).

/** The most recent failed jobs with their errors, newest first, at most {@link FAILED_JOBS_KEPT}. */
export const FAILED_JOBS = "failed-jobs";
// #endregion keys

/**
 * A list only grows unless someone trims it, and Redis keeps everything in memory: the
 * failed list keeps the latest 1,000 (Sidekiq's dead set keeps 10,000, for six months).
 * The `stats:failed` counter still counts them all.
 */
export const FAILED_JOBS_KEPT = 1_000;

/**
 * One list per worker slot that only its `stop()` pushes to: how a worker blocked in BRPOP is
 * woken without losing a job (see `worker.ts`). Deleted when the worker has stopped.
 */
export function stopSignalKey(slotId: string): string {
  return `worker-stop:${slotId}`;
}

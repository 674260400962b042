/**
 * Where step 09 keeps its data: step 04's keys, and now the places a job can be while it is
 * not waiting in the queue — a processing list per worker process, a sorted set of jobs due
 * later, a sorted set of dead jobs — and the processes themselves. This file plays the part
 * of a Postgres step's `schema.sql`: a job's state is which key it is in.
 *
 * The names are written here without the namespace: the connection adds `${namespace}:` to
 * every key it sends (ioredis `keyPrefix`, see `lib/redis/connection.ts`), in scripts too.
 *
 * @module
 */

// #region keys
/** The name of the one queue; named queues are step 07's, and not this lesson's. */
export const QUEUE_NAME = "default";

/** The queue: waiting jobs, each one JSON text (see `payload.ts`). LPUSH on the left, taken from the right. */
export const QUEUE = `queue:${QUEUE_NAME}`;

/**
 * The jobs one worker process has taken and not yet acknowledged: `BLMOVE` puts a job here in
 * the same step that takes it off the queue, so a job is always in some list. One list per
 * process, not one for all: acknowledging is `LREM` of the job, which walks the list — a list
 * of this process's running jobs (at most its concurrency) is short; one shared list of every
 * running job in the system is the O(n) trap (see `acknowledge.ts`).
 */
export function processingKey(processId: string): string {
  return `processing:${processId}`;
}

/**
 * Jobs due later, scored by the time they are due (milliseconds since the epoch): jobs
 * enqueued with `runAt`, and failed attempts waiting for their retry. One sorted set for both
 * (Sidekiq keeps `schedule` and `retry` apart, for its web page; the mover is the same).
 */
export const SCHEDULED = "scheduled";

/** The dead queue: jobs that failed their last attempt, scored by when (see `failed-jobs.ts`). */
export const DEAD = "dead";

/** The registered processes: process id → JSON of who it is (see `processes.ts`). */
export const PROCESSES = "processes";

/** A process's heartbeat: a key that expires. While it exists, the process counts as alive. */
export function heartbeatKey(processId: string): string {
  return `heartbeat:${processId}`;
}

/** Counters: the last job id and process id handed out (`INCR`), unique across processes. */
export const LAST_JOB_ID = "last-job-id";
export const LAST_PROCESS_ID = "last-process-id";

/** How many jobs were run to the end (and acknowledged); as step 04's `stats:finished`. */
export const FINISHED = "stats:finished";
// #endregion keys

/**
 * The dead queue only grows unless someone trims it, and Redis keeps everything in memory:
 * it keeps the latest 10,000 (as Sidekiq's dead set does, which also drops them after six
 * months). A job trimmed off is gone; `failed` counts the ones kept.
 */
export const DEAD_JOBS_KEPT = 10_000;

/**
 * Recording what happened: two counters and a list of failures.
 *
 * @module
 */
import type { Redis } from "ioredis";
import type { JobOutcome, StoredJob } from "../../lib/jobs/perform.ts";
import { execOrThrow } from "../../lib/redis/exec.ts";
import { FAILED, FAILED_JOBS, FAILED_JOBS_KEPT, FINISHED } from "./keys.ts";

/** One entry of the failed-jobs list, newest first. */
export interface FailedJobRecord {
  /** The job's id, or `null` for an entry that was not a job at all. */
  readonly id: string | null;
  readonly name: string | null;
  /** The stored arguments (or the whole damaged entry), to run it again by hand. */
  readonly payload: string;
  readonly error: string;
  readonly stack: string | null;
  /** Milliseconds since the epoch. */
  readonly failedAt: number;
}

/**
 * A finished job leaves nothing behind but a counter: the job itself was removed when it was
 * taken. A failed one is counted and kept, with its error, in a capped list (in one `MULTI`, so
 * the count and the list agree).
 */
// #region record
export async function recordOutcome(
  connection: Redis,
  job: StoredJob,
  outcome: JobOutcome,
): Promise<void> {
  if (outcome.status === "finished") {
    await connection.incr(FINISHED);
    return;
  }
  await recordFailure(connection, {
    id: job.id,
    name: job.name,
    payload: job.arguments,
    error: outcome.error,
    stack: outcome.stack,
    failedAt: Date.now(),
  });
}
// #endregion record

export async function recordFailure(connection: Redis, failure: FailedJobRecord): Promise<void> {
  await execOrThrow(
    connection
      .multi()
      .incr(FAILED)
      .lpush(FAILED_JOBS, JSON.stringify(failure))
      .ltrim(FAILED_JOBS, 0, FAILED_JOBS_KEPT - 1),
  );
}

/** The most recent failures, newest first. */
export async function recentFailures(connection: Redis, count = 10): Promise<FailedJobRecord[]> {
  const entries = await connection.lrange(FAILED_JOBS, 0, count - 1);
  return entries.map((entry) => JSON.parse(entry) as FailedJobRecord);
}

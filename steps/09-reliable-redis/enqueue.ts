/**
 * The enqueue side: an id from Redis, then one LPUSH — or, for a job due later, a ZADD.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { serializeArguments } from "../../lib/jobs/arguments.ts";
import { execOrThrow } from "../../lib/redis/exec.ts";
import type { NewJob } from "../../lib/step.ts";
import { LAST_JOB_ID, QUEUE, SCHEDULED } from "./keys.ts";
import { encodeJob } from "./payload.ts";

/**
 * Pushes jobs onto the queue and returns their ids in order. Arguments are serialized (and so
 * validated) before anything is sent: one bad job refuses the whole batch.
 *
 * Two round trips, as in step 04: `INCRBY` reserves a block of ids, then one `MULTI`/`EXEC`
 * stores every job. A `MULTI` and not a script: the commands decide nothing (every job goes
 * where its `runAt` says), and Redis runs a transaction's commands one after the other with
 * nothing in between, so a reader never sees half a batch.
 *
 * A job with a `runAt` still ahead goes to the `scheduled` sorted set, scored by its due time;
 * the mover (`scheduled.ts`) pushes it onto the queue when it is due. (A `runAt` already past
 * goes straight onto the queue.) Step 04's `stats:enqueued` counter is gone: every job is now
 * in some key — queue, processing, scheduled, dead — or counted as finished, so the counts
 * are read from where the jobs are, not worked out from a difference.
 *
 * Still true from step 04: this cannot join the application's own database transaction.
 */
// #region enqueue
export async function pushJobs(redis: Redis, jobs: readonly NewJob[]): Promise<string[]> {
  if (jobs.length === 0) return [];
  const texts = jobs.map((job) => serializeArguments(job.args === undefined ? {} : job.args));
  const lastId = await redis.incrby(LAST_JOB_ID, jobs.length);
  const firstId = lastId - jobs.length + 1;
  const enqueuedAt = Date.now();
  const ids = jobs.map((_, index) => String(firstId + index));
  const ready: string[] = [];
  const later: (string | number)[] = [];
  jobs.forEach((job, index) => {
    const entry = encodeJob({
      id: ids[index] ?? "",
      name: job.name,
      arguments: texts[index] ?? "{}",
      enqueuedAt,
      attempt: 1,
    });
    const dueAt = job.runAt?.getTime();
    if (dueAt !== undefined && dueAt > enqueuedAt) later.push(dueAt, entry);
    else ready.push(entry);
  });
  // LPUSH a b c leaves the list as c b a; BLMOVE takes from the right: a first.
  const transaction = redis.multi();
  if (ready.length > 0) transaction.lpush(QUEUE, ...ready);
  if (later.length > 0) transaction.zadd(SCHEDULED, ...later);
  await execOrThrow(transaction);
  return ids;
}
// #endregion enqueue

/**
 * The enqueue side: an id from Redis, then one LPUSH.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { serializeArguments } from "../../lib/jobs/arguments.ts";
import { execOrThrow } from "../../lib/redis/exec.ts";
import type { NewJob } from "../../lib/step.ts";
import { ENQUEUED, LAST_JOB_ID, QUEUE } from "./keys.ts";
import { encodeJob } from "./payload.ts";

/**
 * Pushes jobs onto the queue and returns their ids in order. Arguments are serialized (and so
 * validated) before anything is sent: one bad job refuses the whole batch.
 *
 * Two round trips. `INCRBY` reserves a block of ids, unique across every process that
 * enqueues (Sidekiq makes a random `jid` on the client instead and saves this round trip).
 * Then `LPUSH` with every job, and the counter, in one `MULTI`/`EXEC`: Redis runs a
 * transaction's commands one after the other with nothing in between, so a reader never sees
 * the jobs without the count. (If the second round trip fails, the reserved ids are simply
 * never used: a gap, like a rolled-back `bigserial`.)
 *
 * What this cannot do is join the application's own transaction. The app writes its row to
 * PostgreSQL and its job to Redis: two systems, two commits, and nothing makes them one. Roll
 * the database back after this returned, and the job runs for a row that never existed;
 * crash between the COMMIT and this call, and the row exists with no job. The Postgres steps
 * INSERT the job in the app's transaction, so both commit or neither does.
 */
// #region enqueue
export async function pushJobs(redis: Redis, jobs: readonly NewJob[]): Promise<string[]> {
  if (jobs.length === 0) return [];
  const texts = jobs.map((job) => serializeArguments(job.args === undefined ? {} : job.args));
  const lastId = await redis.incrby(LAST_JOB_ID, jobs.length);
  const firstId = lastId - jobs.length + 1;
  const enqueuedAt = Date.now();
  const ids = jobs.map((_, index) => String(firstId + index));
  const entries = jobs.map((job, index) =>
    encodeJob({
      id: ids[index] ?? "",
      name: job.name,
      arguments: texts[index] ?? "{}",
      enqueuedAt,
    }),
  );
  // LPUSH a b c leaves the list as c b a; BRPOP takes from the right: a first.
  await execOrThrow(
    redis
      .multi()
      .lpush(QUEUE, ...entries)
      .incrby(ENQUEUED, jobs.length),
  );
  return ids;
}
// #endregion enqueue

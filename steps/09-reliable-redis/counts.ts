/**
 * How many jobs are in each state, and in the queue, and history for the benchmark.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { execOrThrow } from "../../lib/redis/exec.ts";
import type { QueueReport } from "../../lib/step.ts";
import { DEAD, FINISHED, PROCESSES, processingKey, QUEUE, QUEUE_NAME, SCHEDULED } from "./keys.ts";
import { decodeJob } from "./payload.ts";

/**
 * `ready` (in the queue), `claimed` (in a processing list: running, or held by a process that
 * died and is not reaped yet), `scheduled` (due later: `runAt`, or a retry's backoff),
 * `finished`, and `failed` (in the dead queue). Step 04 had `runningOrLost`, a difference
 * of counters, because a taken job was nowhere; here every job is somewhere, and each count
 * is read from where the jobs are.
 *
 * The processing lists are found through the registered processes (a process is deregistered
 * only once its list is empty, by `leave` or the reaper), not by `SCAN`ning for their keys,
 * which would walk every key in the database. Their lengths and the rest are read in one
 * `MULTI`, so they add up.
 */
export async function countJobs(redis: Redis): Promise<Record<string, number>> {
  const processIds = await redis.hkeys(PROCESSES);
  const transaction = redis.multi().llen(QUEUE).zcard(SCHEDULED).zcard(DEAD).get(FINISHED);
  for (const id of processIds) transaction.llen(processingKey(id));
  const [ready, scheduled, failed, finished, ...claimed] = (await execOrThrow(transaction)).map(
    (reply) => Number(reply ?? 0),
  );
  return {
    ready: ready ?? 0,
    claimed: claimed.reduce((sum, count) => sum + count, 0),
    scheduled: scheduled ?? 0,
    finished: finished ?? 0,
    failed: failed ?? 0,
  };
}

/**
 * The one queue, if it holds jobs: their number, and how long ago the oldest — the one at the
 * right end, which BLMOVE takes next — was pushed. Both read in one `MULTI`. An entry damaged
 * by hand has no time to read: its age is `null`.
 */
export async function countReadyByQueue(redis: Redis): Promise<QueueReport[]> {
  const [length, oldest] = await execOrThrow(redis.multi().llen(QUEUE).lindex(QUEUE, -1));
  const ready = Number(length ?? 0);
  if (ready === 0) return [];
  return [{ queue: QUEUE_NAME, ready, oldestReadyAgeMs: ageOf(oldest) }];
}

function ageOf(entry: unknown): number | null {
  if (typeof entry !== "string") return null;
  try {
    const { enqueuedAt } = decodeJob(entry);
    return enqueuedAt > 0 ? Math.max(0, Date.now() - enqueuedAt) : null;
  } catch {
    return null;
  }
}

/** "Months of use": a finished job leaves only a counter behind, so history is the counter. */
export async function addFinishedHistory(redis: Redis, count: number): Promise<void> {
  if (count <= 0) return;
  await redis.incrby(FINISHED, count);
}

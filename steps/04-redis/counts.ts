/**
 * How many jobs are in each state and in the queue, and history for the benchmark.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { execOrThrow } from "../../lib/redis/exec.ts";
import type { QueueReport } from "../../lib/step.ts";
import { ENQUEUED, FAILED, FINISHED, QUEUE, QUEUE_NAME } from "./keys.ts";
import { decodeJob } from "./payload.ts";

/**
 * `queued` (in the list), `finished`, `failed`, and `runningOrLost`: jobs that were taken off
 * the list and never recorded. Redis cannot say which of those are running right now and which
 * died with their worker — nothing records that a job was taken, or by whom. That is the
 * honest name for what this design knows. All four are read in one `MULTI`, so they add up.
 */
export async function countJobs(redis: Redis): Promise<Record<string, number>> {
  const [enqueued, queued, finished, failed] = (
    await execOrThrow(redis.multi().get(ENQUEUED).llen(QUEUE).get(FINISHED).get(FAILED))
  ).map((reply) => Number(reply ?? 0));
  return {
    queued: queued ?? 0,
    runningOrLost: (enqueued ?? 0) - (queued ?? 0) - (finished ?? 0) - (failed ?? 0),
    finished: finished ?? 0,
    failed: failed ?? 0,
  };
}

/**
 * The one queue, if it holds jobs: their number, and how long ago the oldest — the one at the
 * right end, which BRPOP takes next — was pushed (its `enqueuedAt`, written by the enqueuing
 * process's clock). Both read in one `MULTI`. An entry damaged by hand has no time to read:
 * its age is `null` rather than a `stats` that fails.
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

/**
 * "Months of use", as the history benchmark needs it. In Redis a finished job leaves nothing
 * behind but `INCR stats:finished`: the job was removed from the list when it was taken, so
 * there is no history to scan, and BRPOP costs the same after a billion jobs as after one.
 * Adding history is adding to the counters.
 */
export async function addFinishedHistory(redis: Redis, count: number): Promise<void> {
  if (count <= 0) return;
  await execOrThrow(redis.multi().incrby(ENQUEUED, count).incrby(FINISHED, count));
}

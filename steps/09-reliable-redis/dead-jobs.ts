/**
 * The dead queue: jobs that failed their last attempt, in a sorted set scored by when, kept
 * until someone retries them (`npm run step 09 -- failed`, `-- retry`).
 *
 * @module
 */
import type { Redis } from "ioredis";
import type { FailedJobReport } from "../../lib/step.ts";
import { DEAD, QUEUE } from "./keys.ts";
import { LuaScript } from "./lua.ts";
import { encodeJob } from "./payload.ts";

/** One member of the dead set: the job as it was, and why it died. JSON text. */
export interface DeadJobRecord {
  /** The job's id, or `null` for an entry that was not a job at all (pushed by hand). */
  readonly id: string | null;
  readonly name: string | null;
  /** The stored arguments (or the whole damaged entry). */
  readonly arguments: string;
  readonly enqueuedAt: number;
  /** How many attempts it had. */
  readonly attempts: number;
  readonly error: string;
  readonly stack: string | null;
  /** Milliseconds since the epoch. */
  readonly failedAt: number;
}

export function encodeDeadJob(record: DeadJobRecord): string {
  return JSON.stringify(record);
}

/**
 * Every dead job, oldest failure first. `ZRANGE` of the whole set: fine for a command a person
 * runs, and the set is capped (`DEAD_JOBS_KEPT`); a dashboard over a big dead set would page.
 */
export async function listDeadJobs(redis: Redis): Promise<FailedJobReport[]> {
  const members = await redis.zrange(DEAD, 0, -1);
  return members.map((member) => {
    const record = JSON.parse(member) as DeadJobRecord;
    return {
      jobId: record.id ?? "(not a job)",
      name: record.name ?? "(not a job)",
      arguments: record.arguments,
      error: record.error,
      stack: record.stack,
      attempts: record.attempts,
      failedAt: new Date(record.failedAt),
    };
  });
}

/**
 * Takes one member out of the dead set and pushes the job, with a fresh set of attempts, onto
 * the front of the queue (`RPUSH`: the end BLMOVE takes next). A script, because it must check
 * that the member is still there: two people retrying the same job at once must not both
 * enqueue it. `ZREM` answers whether it removed the member, and only then is it pushed.
 */
const RESURRECT = new LuaScript(`
  if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
  redis.call('RPUSH', KEYS[2], ARGV[2])
  return 1
`);

/**
 * Puts the named dead jobs (or all) back on the queue; resolves with the ids it put back.
 * Finding them reads the whole dead set (ids are inside the members, not their keys): O(n)
 * in the dead set's size, once per call, for an operation a person starts by hand.
 */
export async function retryDeadJobs(
  redis: Redis,
  which: readonly string[] | "all",
): Promise<string[]> {
  const members = await redis.zrange(DEAD, 0, -1);
  const retried: string[] = [];
  for (const member of members) {
    const record = JSON.parse(member) as DeadJobRecord;
    if (record.id === null || record.name === null) continue; // not a job: nothing to run
    if (which !== "all" && !which.includes(record.id)) continue;
    const entry = encodeJob({
      id: record.id,
      name: record.name,
      arguments: record.arguments,
      enqueuedAt: record.enqueuedAt,
      attempt: 1,
    });
    if ((await RESURRECT.run(redis, [DEAD, QUEUE], [member, entry])) === 1) {
      retried.push(record.id);
    }
  }
  return retried;
}

/**
 * Deletes the named dead jobs (or all) for good; resolves with the ids it deleted (the
 * dashboard's "discard"). `ZREM` of the member read: it answers whether it removed it, so a
 * retry and a discard of the same job at once cannot both have it.
 */
export async function discardDeadJobs(
  redis: Redis,
  which: readonly string[] | "all",
): Promise<string[]> {
  const members = await redis.zrange(DEAD, 0, -1);
  const discarded: string[] = [];
  for (const member of members) {
    const record = JSON.parse(member) as DeadJobRecord;
    const id = record.id ?? "(not a job)";
    if (which !== "all" && !which.includes(id)) continue;
    if ((await redis.zrem(DEAD, member)) === 1) discarded.push(id);
  }
  return discarded;
}

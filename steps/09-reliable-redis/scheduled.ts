/**
 * The mover: jobs in the `scheduled` sorted set that are due — enqueued for later, or waiting
 * for their retry — are pushed onto the queue.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { ScheduledJobReport } from "../../lib/step.ts";
import { QUEUE, SCHEDULED } from "./keys.ts";
import { LuaScript } from "./lua.ts";
import { decodeJob, type JobPayload } from "./payload.ts";

/**
 * How often a worker looks for due jobs, and how many it moves per script. A scheduled job
 * starts at most about one interval late. Sidekiq's poller looks every 5 s on average (spread
 * at random over its processes, so a hundred processes do not all look in the same second).
 */
export const DEFAULT_DISPATCH_INTERVAL_MS = 1_000;
const BATCH_SIZE = 100;

/**
 * A script: read the due members and move them, with no other client in between. As two
 * commands, two movers could both read job 7 as due and both push it: it would run twice.
 * (Sidekiq reads one due job and `ZREM`s it, and pushes only if the `ZREM` removed it: the
 * same check, in more round trips.) At most {@link BATCH_SIZE} per call, so the server is
 * never held for long; the loop calls again while a batch comes back full.
 *
 * Due is judged by the caller's clock (`ARGV[1]`), as Sidekiq does: the processes' clocks
 * must agree to within what a scheduled job may be late.
 */
// #region move-due
const MOVE_DUE = new LuaScript(`
  local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[2])
  if #due == 0 then return 0 end
  redis.call('ZREM', KEYS[1], unpack(due))
  redis.call('LPUSH', KEYS[2], unpack(due))
  return #due
`);
// #endregion move-due

/** Moves every due job onto the queue; resolves with how many. */
export async function moveDueJobs(redis: Redis): Promise<number> {
  let moved = 0;
  for (;;) {
    const count = Number(await MOVE_DUE.run(redis, [SCHEDULED, QUEUE], [Date.now(), BATCH_SIZE]));
    moved += count;
    if (count < BATCH_SIZE) return moved;
  }
}

/** Runs {@link moveDueJobs} every `intervalMs` until stopped. Several movers are safe; they share the work. */
export class Mover {
  readonly #stopping = new AbortController();
  readonly #loop: Promise<void>;

  constructor(redis: Redis, intervalMs: number, onError: (error: unknown) => void) {
    this.#loop = this.#run(redis, intervalMs, onError);
  }

  async #run(redis: Redis, intervalMs: number, onError: (error: unknown) => void): Promise<void> {
    const { signal } = this.#stopping;
    while (!signal.aborted) {
      try {
        await moveDueJobs(redis);
      } catch (error) {
        onError(error);
      }
      await sleep(intervalMs, undefined, { signal }).catch(() => {});
    }
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
  }
}

/**
 * The `limit` jobs due soonest, with when (the dashboard's "scheduled" table): the first
 * members of the sorted set, which is ordered by due time. A member that is not a job (pushed
 * by hand) is left out here; the mover pushes it like any other, and the worker sends it to
 * the dead queue.
 */
export async function listScheduledJobs(
  redis: Redis,
  limit: number,
): Promise<ScheduledJobReport[]> {
  const flat = await redis.zrange(SCHEDULED, 0, limit - 1, "WITHSCORES");
  const jobs: ScheduledJobReport[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    let job: JobPayload;
    try {
      job = decodeJob(flat[i] ?? "");
    } catch {
      continue;
    }
    jobs.push({
      jobId: job.id,
      name: job.name,
      arguments: job.arguments,
      dueAt: new Date(Number(flat[i + 1])),
      attempts: job.attempt - 1,
    });
  }
  return jobs;
}

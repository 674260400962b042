/**
 * Acknowledging a job: taking it out of this process's processing list and recording what
 * became of it — finished, due again later, or dead — as one step.
 *
 * @module
 */
import type { Redis } from "ioredis";
import type { JobOutcome } from "../../lib/jobs/perform.ts";
import type { JobRegistry } from "../../lib/jobs/registry.ts";
import type { RetryBackoff } from "../../lib/step.ts";
import { maxAttemptsOf, retryDelayMs } from "./backoff.ts";
import { encodeDeadJob } from "./dead-jobs.ts";
import { DEAD, DEAD_JOBS_KEPT, FINISHED, processingKey, QUEUE, SCHEDULED } from "./keys.ts";
import { LuaScript } from "./lua.ts";
import { encodeJob, type JobPayload } from "./payload.ts";

/** Where a job goes once its attempt is over. */
export type Disposition =
  | { readonly kind: "finished" }
  /** Scheduled again: `entry` (the attempt counted up) is due at `at`. */
  | { readonly kind: "retry"; readonly at: number; readonly entry: string }
  /** Into the dead queue, as `record` (a `DeadJobRecord` of `dead-jobs.ts`, as JSON). */
  | { readonly kind: "dead"; readonly record: string };

/**
 * What an attempt's outcome means for the job: the retry path, written once and used twice —
 * by the worker for a job that finished or threw, and by the reaper for a job whose process
 * died under it (`reaper.ts`), which is an attempt too.
 */
export function dispositionOf(
  job: JobPayload,
  outcome: JobOutcome,
  registry: JobRegistry,
  backoff: RetryBackoff,
): Disposition {
  if (outcome.status === "finished") return { kind: "finished" };
  const delayMs = retryDelayMs(
    job.attempt,
    maxAttemptsOf(registry, job.name),
    outcome.retryable,
    backoff,
  );
  const now = Date.now();
  if (delayMs !== undefined) {
    return {
      kind: "retry",
      at: now + delayMs,
      entry: encodeJob({ ...job, attempt: job.attempt + 1 }),
    };
  }
  const { id, name, arguments: args, enqueuedAt, attempt } = job;
  return {
    kind: "dead",
    record: encodeDeadJob({
      ...{ id, name, arguments: args, enqueuedAt, attempts: attempt },
      ...{ error: outcome.error, stack: outcome.stack, failedAt: now },
    }),
  };
}

/**
 * One script, because it must decide: `LREM` answers whether the entry was still in this
 * process's list, and only if it was is the outcome recorded. It may not be — if this process
 * was taken for dead (its heartbeat expired while it lived on: a long GC pause, Redis away for
 * longer than the threshold), the reaper has sent the job back through the retry path, and it
 * runs, or ran, elsewhere. Recording it here as well would count it twice. A `MULTI` would run
 * the `INCR` whatever the `LREM` said.
 *
 * The same script then takes the slot's next job, if there is one: an `LMOVE` from the queue
 * into the same processing list — what the slot's `BLMOVE` would do next, without waiting,
 * and without a second round trip. A busy slot so costs one round trip per job instead of two
 * (acknowledge, then take): for a short job, the round trip is most of what a job costs (see
 * the lesson's benchmark). BullMQ's `moveToFinished` script does the same. Only when the
 * queue is empty does the slot go back to `BLMOVE`, and wait there without polling. The
 * alternative rejected: a pipeline of the script and an `LMOVE` would also be one round trip,
 * but two commands for the server to parse and two replies to read; one script is one of each.
 *
 * `LREM` walks the list until it finds the entry: O(n) in the list's length. That is why the
 * list is this process's own (at most its concurrency long; count -1 walks from the right,
 * where the oldest running job is): with one processing list for every worker, as a first
 * design might have, each acknowledge would walk every running job in the system — 1,000
 * workers × 10 slots, 10,000 entries walked per job, with the server serving no one else
 * meanwhile. (BullMQ keeps one `active` list for all, and walks it with `LREM` too; it keeps
 * it short by keeping job data in a hash and only the id in the list.)
 */
// #region acknowledge
const ACKNOWLEDGE = new LuaScript(`
  local recorded = 0
  if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 1 then
    recorded = 1
    if ARGV[2] == 'finished' then
      redis.call('INCR', KEYS[2])
    elseif ARGV[2] == 'retry' then
      redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
    else
      redis.call('ZADD', KEYS[4], ARGV[3], ARGV[4])
      redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -1 - tonumber(ARGV[5]))
    end
  end
  local next = false
  if ARGV[6] == 'take next' then
    next = redis.call('LMOVE', KEYS[5], KEYS[1], 'RIGHT', 'LEFT')
  end
  return {recorded, next}
`);

/** What {@link acknowledge} did. */
export interface Acknowledged {
  /**
   * `false` if the entry was no longer in the list: the outcome was not this process's to
   * record (the job was recovered by the reaper, or handed back at shutdown).
   */
  readonly recorded: boolean;
  /**
   * The slot's next job, already moved into the processing list, when it asked for one and the
   * queue had one; `null` otherwise.
   */
  readonly next: string | null;
}

/**
 * Removes `entry` (as it was taken) from the processing list of `processId` and records
 * `disposition`; with `takeNext`, also moves the next job from the queue into that list.
 */
export async function acknowledge(
  redis: Redis,
  processId: string,
  entry: string,
  disposition: Disposition,
  takeNext = false,
): Promise<Acknowledged> {
  const [score, member] =
    disposition.kind === "retry"
      ? [disposition.at, disposition.entry]
      : disposition.kind === "dead"
        ? [Date.now(), disposition.record]
        : [0, ""];
  const [recorded, next] = (await ACKNOWLEDGE.run(
    redis,
    [processingKey(processId), FINISHED, SCHEDULED, DEAD, QUEUE],
    [entry, disposition.kind, score, member, DEAD_JOBS_KEPT, takeNext ? "take next" : ""],
  )) as [number, string | null];
  return { recorded: recorded === 1, next };
}
// #endregion acknowledge

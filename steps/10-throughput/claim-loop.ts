/**
 * The claiming loop (step 10: ahead of the free slots): claim, into the
 * worker's local buffer, a job for each slot that runs nothing and as many
 * more as the worker ended lately — its pace — and, when a claim found
 * fewer jobs than asked for, wait for the doorbell: rung by a notification,
 * or by the listener when it has (re)connected, or at the fallback poll.
 * Starting the buffered jobs in free slots is another loop's
 * (claim-buffer.ts).
 *
 * @module
 */
import { setImmediate as setImmediatePromise, setTimeout as sleep } from "node:timers/promises";
import type { StoredJob } from "../../lib/jobs/perform.ts";
import type { Database } from "../../lib/postgres/database.ts";
import type { ClaimBuffer } from "./claim-buffer.ts";
import { claimReadyJobs } from "./claims.ts";
import type { Doorbell } from "./doorbell.ts";
import type { ProcessLifecycle } from "./lifecycle.ts";

/** How long the loop waits after a claim failed (the server is restarting, say) before trying again. */
const CLAIM_RETRY_MS = 1_000;
/**
 * PostgreSQL's SQLSTATE for a NULL where a column forbids it: a claim whose
 * claimer's process row is gone (claims.ts). Step 08's claim was refused by
 * its foreign key instead (23503).
 */
const NOT_NULL_VIOLATION = "23502";

export interface ClaimLoopParts {
  readonly database: Database;
  /** The queues it serves, the first listed first. */
  readonly queues: readonly string[];
  /** Where claimed jobs wait for a free slot. */
  readonly buffer: ClaimBuffer;
  /** The most jobs one claim asks for. */
  readonly batchSize: number;
  /** How many of its slots run no job now. */
  readonly idleSlots: () => number;
  /** How many of its jobs ended lately (pace.ts): how many more it will start soon, at this pace. */
  readonly endedLately: () => number;
  /** Rung when either may have changed: a job ran (its slot is idle), a buffered job was dropped. */
  readonly room: Doorbell;
  readonly doorbell: Doorbell;
  /** How long to wait for a ring before looking anyway. */
  readonly fallbackIntervalMs: number;
  /** Aborted when the worker is told to stop: the loop ends. */
  readonly stopping: AbortSignal;
  readonly report: (error: unknown) => void;
}

/**
 * Claims under the process's current row until the worker is stopped. The
 * row can change (step 08): a process taken for dead registers again.
 *
 * When to claim, and how many: one job for each slot that runs nothing and
 * has no buffered job waiting for it, plus one for each job the worker
 * ended in the last pace window (10 ms) — at most a batch in one claim, and
 * at most a batch besides the idle slots' jobs in the buffer. A worker
 * running no-op jobs ends thousands a second, and claims the few hundred
 * it ended in the last window while its slots run the last claim's: one
 * commit for hundreds of jobs, and the slots never wait for it. A worker whose slots run long jobs ended none
 * lately, and claims only for a slot that is idle, as step 08 does.
 *
 * Rejected: a buffer of a fixed depth (graphile-worker's local queue holds
 * 500). Its jobs can start only as this worker's slots free up, while
 * another worker sits idle: a worker whose one slot runs a long job would
 * hold the next jobs too (step 08's idempotent-job test stalls a slot and
 * waits for another worker to run the job), and three jobs that must run at
 * once on three single-slot workers would all go to the first (the
 * concurrency-limits contract test). graphile-worker gives such jobs back
 * after a TTL of 5 minutes. Claimed by pace, a buffered job waits about one
 * window if the worker keeps its pace; if all its slots turn to long jobs
 * at once, the jobs buffered before that wait for a slot (the lesson says
 * so), and a stop gives them back at once.
 */
// #region claim-loop
export async function claimUntilStopped(
  lifecycle: ProcessLifecycle,
  parts: ClaimLoopParts,
): Promise<void> {
  const { database, queues, buffer, room, doorbell, stopping } = parts;
  while (!stopping.aborted) {
    // Let the turn of the event loop end first: slots whose jobs end in the
    // same turn (a busy worker's usually do) are then claimed for together,
    // where the first to end would otherwise get a claim of one.
    await setImmediatePromise();
    const roomRungBefore = room.rings; // before looking, so no ring is missed
    const ahead = Math.min(parts.batchSize, parts.endedLately());
    const wanted = Math.min(parts.batchSize, parts.idleSlots() + ahead - buffer.size);
    if (wanted <= 0) {
      await room.waitForRingAfter(roomRungBefore, parts.fallbackIntervalMs, stopping);
      continue;
    }
    const processId = await lifecycle.current();
    if (stopping.aborted || processId === undefined) break;
    const rungBefore = doorbell.rings; // before looking, so no ring is missed
    let jobs: StoredJob[];
    try {
      // A short transaction: committed before any of these jobs starts.
      jobs = await claimReadyJobs(database, processId, queues, wanted);
    } catch (error) {
      parts.report(error);
      if ((error as { code?: string }).code === NOT_NULL_VIOLATION) {
        // The claim's process row is gone: pruned, and the heartbeat has
        // not noticed yet.
        await lifecycle.registerAgain(processId);
      } else {
        await sleep(CLAIM_RETRY_MS, undefined, { signal: stopping }).catch(() => {});
      }
      continue;
    }
    buffer.add(jobs, processId);
    // Fewer than asked for: the queue is empty for now. Wait for a ring.
    if (jobs.length < wanted) {
      await doorbell.waitForRingAfter(rungBefore, parts.fallbackIntervalMs, stopping);
    }
  }
}
// #endregion claim-loop

// Unchanged from step 08: steps/08-recovery/claim-loop.ts
/**
 * The claiming loop: claim as many ready jobs as there are free slots, start
 * each in a slot, and claim again when a slot frees up — or, when it found
 * fewer jobs than free slots, wait for the doorbell: rung by a notification,
 * or by the listener when it has (re)connected, or at the fallback poll.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { StoredJob } from "../../lib/jobs/perform.ts";
import type { Database } from "../../lib/postgres/database.ts";
import { claimReadyJobs } from "./claims.ts";
import type { Doorbell } from "./doorbell.ts";
import type { ProcessLifecycle } from "./lifecycle.ts";
import type { SlotPool } from "./slots.ts";

/** How long the loop waits after a claim failed (the server is restarting, say) before trying again. */
const CLAIM_RETRY_MS = 1_000;
/** PostgreSQL's SQLSTATE for a row that references one that does not exist. */
const FOREIGN_KEY_VIOLATION = "23503";

export interface ClaimLoopParts {
  readonly database: Database;
  /** The queues it serves, the first listed first. */
  readonly queues: readonly string[];
  readonly slots: SlotPool;
  readonly doorbell: Doorbell;
  /** How long to wait for a ring before looking anyway. */
  readonly fallbackIntervalMs: number;
  /** Aborted when the worker is told to stop: the loop ends. */
  readonly stopping: AbortSignal;
  /** Runs one job, claimed under `processId`, in slot `slot` (see job-runner.ts). */
  readonly run: (job: StoredJob, processId: string, slot: number) => Promise<void>;
  readonly report: (error: unknown) => void;
}

/**
 * Claims under the process's current row until the worker is stopped. The
 * row can change (step 08): a process taken for dead registers again.
 */
// #region claim-loop
export async function claimUntilStopped(
  lifecycle: ProcessLifecycle,
  parts: ClaimLoopParts,
): Promise<void> {
  const { database, queues, slots, doorbell, stopping } = parts;
  while (!stopping.aborted) {
    await slots.waitForFree(stopping);
    const processId = await lifecycle.current();
    if (stopping.aborted || processId === undefined) break;
    const rungBefore = doorbell.rings; // before looking, so no ring is missed
    const free = slots.free;
    let jobs: StoredJob[];
    try {
      // A short transaction: committed before any of these jobs starts.
      jobs = await claimReadyJobs(database, processId, queues, free);
    } catch (error) {
      parts.report(error);
      if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) {
        // The claim points at a process row that is gone: pruned, and the
        // heartbeat has not noticed yet.
        await lifecycle.registerAgain(processId);
      } else {
        await sleep(CLAIM_RETRY_MS, undefined, { signal: stopping }).catch(() => {});
      }
      continue;
    }
    for (const job of jobs) slots.run((slot) => parts.run(job, processId, slot));
    // Fewer than asked for: the queue is empty for now. Wait for a ring.
    if (jobs.length < free) {
      await doorbell.waitForRingAfter(rungBefore, parts.fallbackIntervalMs, stopping);
    }
  }
}
// #endregion claim-loop

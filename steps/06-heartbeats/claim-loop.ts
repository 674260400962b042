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
import type { SlotPool } from "./slots.ts";

/** How long the loop waits after a claim failed (the server is restarting, say) before trying again. */
const CLAIM_RETRY_MS = 1_000;

export interface ClaimLoopParts {
  readonly database: Database;
  readonly slots: SlotPool;
  readonly doorbell: Doorbell;
  /** How long to wait for a ring before looking anyway. */
  readonly fallbackIntervalMs: number;
  /** Aborted when the worker is told to stop: the loop ends. */
  readonly stopping: AbortSignal;
  /** Runs one claimed job in slot `slot` (see job-runner.ts). */
  readonly run: (job: StoredJob, slot: number) => Promise<void>;
  readonly report: (error: unknown) => void;
}

/** Claims for `processId` until the worker is stopped. */
// #region claim-loop
export async function claimUntilStopped(processId: string, parts: ClaimLoopParts): Promise<void> {
  const { database, slots, doorbell, stopping } = parts;
  while (!stopping.aborted) {
    await slots.waitForFree(stopping);
    if (stopping.aborted) break;
    const rungBefore = doorbell.rings; // before looking, so no ring is missed
    const free = slots.free;
    let jobs: StoredJob[];
    try {
      // A short transaction: committed before any of these jobs starts.
      jobs = await claimReadyJobs(database, processId, free);
    } catch (error) {
      parts.report(error);
      await sleep(CLAIM_RETRY_MS, undefined, { signal: stopping }).catch(() => {});
      continue;
    }
    for (const job of jobs) slots.run((slot) => parts.run(job, slot));
    // Fewer than asked for: the queue is empty for now. Wait for a ring.
    if (jobs.length < free) {
      await doorbell.waitForRingAfter(rungBefore, parts.fallbackIntervalMs, stopping);
    }
  }
}
// #endregion claim-loop

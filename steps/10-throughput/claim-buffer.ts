/**
 * The local buffer (step 10): jobs a worker has claimed ahead of its free
 * slots, in claim order, and the loop that starts them as slots free up.
 *
 * @module
 */
import type { StoredJob } from "../../lib/jobs/perform.ts";
import type { Doorbell } from "./doorbell.ts";
import type { SlotPool } from "./slots.ts";

/** A job claimed and not started yet, with the process row it was claimed under. */
export interface BufferedJob {
  readonly job: StoredJob;
  readonly processId: string;
}

/**
 * Claimed jobs waiting for a free slot. They are claimed in the database —
 * a row in claimed_executions each, their attempt counted — so they are
 * nobody else's: another worker cannot take them, a stopping worker gives
 * them back ({@link ClaimBuffer.drain}, then shutdown.ts), and a crashed
 * worker's are recovered with its running jobs, as step 08 recovers those.
 * That is the price of claiming ahead: a crash sends a whole buffer back
 * through the retry path, each job with one attempt spent though it never
 * started.
 *
 * As deep as the worker's recent pace allows, at most a batch besides one
 * job per idle slot (see claim-loop.ts), in claim order: the most urgent
 * first within each claim. A job more urgent than those already buffered,
 * enqueued after they were claimed, waits behind them — for about one pace
 * window, if the worker keeps its pace (graphile-worker's local queue has
 * the same trade-off, 500 deep).
 */
// #region buffer
export class ClaimBuffer {
  readonly #jobs: BufferedJob[] = [];
  readonly #waiters = new Set<() => void>();

  get size(): number {
    return this.#jobs.length;
  }

  add(jobs: readonly StoredJob[], processId: string): void {
    for (const job of jobs) this.#jobs.push({ job, processId });
    if (jobs.length > 0) for (const wake of [...this.#waiters]) wake();
  }

  /** The next job to start, if any. */
  take(): BufferedJob | undefined {
    return this.#jobs.shift();
  }

  /** Empties the buffer: a stopping worker starts none of these, and gives them back. */
  drain(): BufferedJob[] {
    return this.#jobs.splice(0);
  }

  /** Resolves when a job is buffered, or when `signal` aborts. */
  waitForJob(signal: AbortSignal): Promise<void> {
    if (this.size > 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        signal.removeEventListener("abort", wake);
        this.#waiters.delete(wake);
        resolve();
      };
      signal.addEventListener("abort", wake, { once: true });
      this.#waiters.add(wake);
    });
  }
}
// #endregion buffer

export interface StartLoopParts {
  readonly buffer: ClaimBuffer;
  readonly slots: SlotPool;
  /** Aborted when the worker is told to stop: nothing more starts. */
  readonly stopping: AbortSignal;
  /** Whether another job may start now: not while too many outcomes wait to be written (job-runner.ts). */
  readonly mayStart: () => boolean;
  /** Rung when a held job is released (its outcome written): `mayStart` may have changed. */
  readonly released: Doorbell;
  /** How long to wait for that ring before looking anyway. */
  readonly fallbackIntervalMs: number;
  /** The process row the worker runs under now (`undefined` while it registers again). */
  readonly currentProcessId: () => string | undefined;
  /** Runs one job, claimed under `processId`, in slot `slot` (see job-runner.ts). */
  readonly run: (job: StoredJob, processId: string, slot: number) => Promise<void>;
  /** A buffered job was dropped: it was claimed under a process row that is gone. */
  readonly dropped: (buffered: BufferedJob) => void;
}

/**
 * Starts buffered jobs, one per free slot, until the worker is stopped —
 * and none while the finisher is two batches behind (job-runner.ts).
 *
 * A job claimed under a process row that is no longer this worker's is not
 * started: the row was pruned (this worker was taken for dead, and has
 * registered again), and recovery has already sent the job back through the
 * retry path. Starting it would run it twice for nothing.
 */
// #region start-loop
export async function startUntilStopped(parts: StartLoopParts): Promise<void> {
  const { buffer, slots, stopping } = parts;
  while (!stopping.aborted) {
    await slots.waitForFree(stopping);
    await buffer.waitForJob(stopping);
    const rungBefore = parts.released.rings; // before looking, so no ring is missed
    if (!parts.mayStart()) {
      await parts.released.waitForRingAfter(rungBefore, parts.fallbackIntervalMs, stopping);
      continue;
    }
    if (stopping.aborted) break;
    const buffered = buffer.take();
    if (buffered === undefined) continue;
    const { job, processId } = buffered;
    if (processId !== parts.currentProcessId()) {
      parts.dropped(buffered);
      continue;
    }
    slots.run((slot) => parts.run(job, processId, slot));
  }
}
// #endregion start-loop

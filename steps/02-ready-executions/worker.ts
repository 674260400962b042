/**
 * The worker: take a ready job inside a transaction, run it there, repeat.
 *
 * @module
 */
import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { type JobEvents, now } from "../../lib/events.ts";
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import {
  announceOutcome,
  type JobOutcome,
  performJob,
  type StoredJob,
} from "../../lib/jobs/perform.ts";
import type { Database, Sql } from "../../lib/postgres/database.ts";
import type { Worker } from "../../lib/step.ts";
import { takeReadyJob } from "./ready-executions.ts";
import type { WorkerStartOptions } from "./worker-settings.ts";

/** The talk sleeps 0.1 s when a poll finds nothing. */
export const DEFAULT_POLL_INTERVAL_MS = 100;
/** How long a loop waits after its own query failed (server restarting, say) before trying again. */
const ERROR_BACKOFF_MS = 1_000;

/**
 * Starts `concurrency` polling loops in this process. Each loop is the talk's
 * `SimpleJob::Worker#run`: poll, and sleep when there was nothing to do.
 */
export function startPollingWorker(
  database: Database,
  events: JobEvents,
  options: WorkerStartOptions = {},
): Worker {
  const id = options.name ?? `${hostname()}:${process.pid}`;
  const registry = options.registry ?? workshopJobs();
  const interval = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const stopping = new AbortController();
  // Every slot waits on this signal; more than ten at once is not a leak.
  setMaxListeners(0, stopping.signal);

  async function runLoop(workerId: string): Promise<void> {
    while (!stopping.signal.aborted) {
      let worked = false;
      try {
        worked = await pollOnce(workerId);
      } catch (error) {
        events.emit("workerError", { workerId, error: String(error), at: now() });
        await sleep(ERROR_BACKOFF_MS, undefined, { signal: stopping.signal }).catch(() => {});
        continue;
      }
      if (!worked) await sleep(interval, undefined, { signal: stopping.signal }).catch(() => {});
    }
  }

  // #region poll-once
  /** One poll. Returns whether it found a job. */
  async function pollOnce(workerId: string): Promise<boolean> {
    // Take, run and mark finished in ONE transaction: the ready row's delete
    // and the job's finished_at commit together when the job is done. If the
    // worker dies mid-job, the transaction rolls back and the row is ready
    // again. The price is unchanged from step 01: a connection and an open
    // transaction for as long as the job runs (step 05 fixes this).
    const context = { registry, workerId, events };
    const ran = await database.transaction(async (tx) => {
      const job = await takeReadyJob(tx);
      if (!job) return undefined;
      await options.hooks?.afterPick?.(job.id, workerId);
      const outcome = await performJob(job, context);
      await markDone(tx, job, outcome);
      return { job, outcome };
    });
    if (!ran) return false;
    // Announced after the commit, so whoever hears it can already see it.
    announceOutcome(context, ran.job, ran.outcome);
    return true;
  }
  // #endregion poll-once

  const loops = Array.from({ length: options.concurrency ?? 1 }, (_, slot) =>
    runLoop(`${id}/${slot + 1}`),
  );
  return {
    id,
    async stop() {
      stopping.abort();
      await Promise.all(loops);
    },
  };
}

/** Records the outcome: finished, or finished with an error. */
async function markDone(tx: Sql, job: StoredJob, outcome: JobOutcome): Promise<void> {
  const error = outcome.status === "failed" ? outcome.error : null;
  await tx.query("UPDATE jobs SET finished_at = now(), error = $2 WHERE id = $1", [job.id, error]);
}

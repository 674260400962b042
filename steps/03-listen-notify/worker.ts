/**
 * The worker: take a ready job inside a transaction, run it there, repeat;
 * when there is none, wait for a notification (or the slow fallback poll).
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
import { Doorbell } from "./doorbell.ts";
import { Listener } from "./listener.ts";
import { takeReadyJob } from "./ready-executions.ts";
import type { WorkerStartOptions } from "./worker-settings.ts";

/**
 * The fallback poll: how long a loop waits for a notification before it
 * looks at the queue anyway. `pollIntervalMs` (the CLI's `--poll-interval`)
 * sets it. Notifications make pickup immediate; this bounds how long a job
 * can wait if one is ever missed (a listener that was reconnecting, a
 * notification queue that filled up) while costing an idle worker three
 * statements every five seconds instead of thirty a second.
 */
export const DEFAULT_FALLBACK_POLL_INTERVAL_MS = 5_000;

/** What the listening worker needs besides the pool: where to open its listening connection. */
export interface ListeningSetup {
  readonly databaseUrl: string;
  /** Counts the listening connection's statements into the instance's total. */
  readonly onStatement: () => void;
}
/** How long a loop waits after its own query failed (server restarting, say) before trying again. */
const ERROR_BACKOFF_MS = 1_000;

/**
 * Starts one listening connection and `concurrency` loops in this process.
 * Each loop takes jobs until there are none, then waits for the doorbell:
 * rung by a notification, or by the listener when it has (re)connected.
 */
export function startListeningWorker(
  database: Database,
  setup: ListeningSetup,
  events: JobEvents,
  options: WorkerStartOptions = {},
): Worker {
  const id = options.name ?? `${hostname()}:${process.pid}`;
  const registry = options.registry ?? workshopJobs();
  const fallbackInterval = options.pollIntervalMs ?? DEFAULT_FALLBACK_POLL_INTERVAL_MS;
  const stopping = new AbortController();
  // Every slot waits on this signal; more than ten at once is not a leak.
  setMaxListeners(0, stopping.signal);
  // #region listen
  const doorbell = new Doorbell();
  const listener = new Listener({
    url: setup.databaseUrl,
    channel: database.schema,
    applicationName: database.schema,
    onWake: () => {
      doorbell.ring();
      options.hooks?.afterRing?.();
    },
    onError: (error) =>
      events.emit("workerError", { workerId: `${id}/listener`, error: String(error), at: now() }),
    onStatement: setup.onStatement,
  });
  listener.start();

  async function runLoop(workerId: string): Promise<void> {
    while (!stopping.signal.aborted) {
      const rungBefore = doorbell.rings; // before looking, so no ring is missed
      let worked = false;
      try {
        worked = await runNextJob(workerId);
      } catch (error) {
        events.emit("workerError", { workerId, error: String(error), at: now() });
        await sleep(ERROR_BACKOFF_MS, undefined, { signal: stopping.signal }).catch(() => {});
        continue;
      }
      if (worked) continue;
      await options.hooks?.afterFindingNothing?.(workerId);
      await doorbell.waitForRingAfter(rungBefore, fallbackInterval, stopping.signal);
    }
  }
  // #endregion listen

  // #region run-next-job
  /** Takes the next ready job, if there is one, and runs it. Returns whether it found one. */
  async function runNextJob(workerId: string): Promise<boolean> {
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
  // #endregion run-next-job

  const loops = Array.from({ length: options.concurrency ?? 1 }, (_, slot) =>
    runLoop(`${id}/${slot + 1}`),
  );
  return {
    id,
    async stop() {
      stopping.abort();
      await Promise.all(loops);
      await listener.stop();
    },
  };
}

/** Records the outcome: finished, or finished with an error. */
async function markDone(tx: Sql, job: StoredJob, outcome: JobOutcome): Promise<void> {
  const error = outcome.status === "failed" ? outcome.error : null;
  await tx.query("UPDATE jobs SET finished_at = now(), error = $2 WHERE id = $1", [job.id, error]);
}

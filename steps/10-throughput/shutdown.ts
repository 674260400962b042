/**
 * How a worker stops (SIGTERM, Ctrl-C, or `Worker.stop()`): it stops
 * claiming, gives back at once the jobs it claimed ahead and had not
 * started (step 10), lets the jobs it runs finish and record themselves for
 * at most its shutdown timeout, gives back to ready what it still holds then
 * (step 08), and says goodbye: a process that deregistered is not dead.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type JobEvents, now } from "../../lib/events.ts";
import type { Database } from "../../lib/postgres/database.ts";
import type { ClaimBuffer } from "./claim-buffer.ts";
import { releaseClaimsOf } from "./claims.ts";
import type { Dispatcher } from "./dispatcher.ts";
import type { HeldJobState, JobRunner } from "./job-runner.ts";
import type { ProcessLifecycle } from "./lifecycle.ts";
import type { Listener } from "./listener.ts";
import type { RecoveryLoop } from "./recovery.ts";
import type { SlotPool } from "./slots.ts";

/**
 * How long a stopping worker lets its running jobs finish before it releases
 * their claims back to ready (Solid Queue's `shutdown_timeout` is 5 s;
 * Sidekiq's is 25 s, under the 30 s Heroku and Kubernetes wait before
 * SIGKILL). It should be shorter than whatever sends the SIGKILL after the
 * SIGTERM, or the release never happens.
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** The parts of a running worker that a stop winds down, in this order. */
export interface RunningWorker {
  readonly database: Database;
  readonly events: JobEvents;
  readonly name: string;
  /** Aborting it ends the claim loop (and a registration still being tried). */
  readonly stopping: AbortController;
  /** The worker's life until it stopped claiming: registering, then the claim and start loops. */
  readonly claiming: Promise<void>;
  readonly buffer: ClaimBuffer;
  readonly slots: SlotPool;
  readonly runner: JobRunner;
  readonly shutdownTimeoutMs: number;
  /** Its own dispatcher and recovery loop, when it runs without a supervisor. */
  readonly dispatcher?: Dispatcher;
  readonly recovery?: RecoveryLoop;
  readonly lifecycle: ProcessLifecycle;
  readonly aliveThresholdMs: number;
  readonly listener: Listener;
}

// #region stop
export async function stopWorker(worker: RunningWorker): Promise<void> {
  worker.stopping.abort();
  await worker.claiming;
  await giveBackUnstarted(worker);
  // Let the running jobs finish and their outcomes be written, for at most
  // the shutdown timeout; then give what this process still holds back to
  // ready, so another worker runs it now instead of after this process is
  // pruned.
  const timeout = new AbortController();
  const finishing = async () => {
    await worker.slots.idle();
    await worker.runner.recorded();
  };
  await Promise.race([
    finishing(),
    sleep(worker.shutdownTimeoutMs, undefined, { signal: timeout.signal }).catch(() => {}),
  ]);
  timeout.abort(); // the jobs finished first: no timer left to keep the process alive
  const held = worker.runner.held();
  worker.runner.giveUp();
  const processId = worker.lifecycle.processId;
  if (processId !== undefined) await releaseHeldJobs(worker, processId, held);
  await worker.recovery?.stop();
  await worker.dispatcher?.stop();
  await worker.lifecycle.deregister();
  await worker.listener.stop();
}
// #endregion stop

/**
 * Gives the claims of `processId` back to ready, and says why for each: the
 * job was still running at the shutdown timeout, or it had ended and its
 * outcome could not be recorded by then (the database was away). If the
 * database is still away, the claims stay, the process row cannot be
 * deleted (the claims point at it), and recovery sends the jobs through the
 * retry path once the row goes stale — later, not never; this says so.
 */
// #region give-back
async function releaseHeldJobs(
  worker: RunningWorker,
  processId: string,
  held: ReadonlyMap<string, HeldJobState>,
): Promise<void> {
  const { events, name } = worker;
  try {
    for (const job of await releaseClaimsOf(worker.database, processId)) {
      const state = held.get(job.jobId);
      const reason =
        state === "recording"
          ? "outcome not recorded"
          : state === "running"
            ? "still running"
            : "not started";
      events.emit("released", { ...job, workerId: name, reason, at: now() });
    }
  } catch (error) {
    const jobs = [...held.keys()].map((jobId) => ` (job ${jobId})`).join("");
    events.emit("workerError", {
      workerId: name,
      error: `could not give back the jobs this process still holds${jobs}: ${error}. They stay claimed by process ${processId} until it is taken for dead, ${worker.aliveThresholdMs / 1000} s after its last heartbeat; then recovery retries them`,
      at: now(),
    });
  }
}
// #endregion give-back

/**
 * Step 10: the jobs claimed ahead and not started go back to ready at once,
 * before the wait for the running ones: another worker can start them now,
 * not after this one's shutdown timeout. Those claimed under a row that is
 * not this process's any more were recovered already. If the database is
 * away, they stay claimed, and the release of everything after the wait
 * tries again.
 */
// #region give-back-unstarted
async function giveBackUnstarted(worker: RunningWorker): Promise<void> {
  const processId = worker.lifecycle.processId;
  const unstarted = worker.buffer.drain().filter((buffered) => buffered.processId === processId);
  if (processId === undefined || unstarted.length === 0) return;
  const jobIds = unstarted.map((buffered) => buffered.job.id);
  try {
    for (const job of await releaseClaimsOf(worker.database, processId, jobIds)) {
      worker.events.emit("released", {
        ...job,
        workerId: worker.name,
        reason: "not started",
        at: now(),
      });
    }
  } catch (error) {
    worker.events.emit("workerError", {
      workerId: worker.name,
      error: `could not give back the jobs claimed ahead (${jobIds.join(", ")}) yet: ${error}`,
      at: now(),
    });
  }
}
// #endregion give-back-unstarted

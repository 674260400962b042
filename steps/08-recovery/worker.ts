/**
 * The worker: register as a process and heartbeat; claim as many ready jobs
 * of its queues as it has free slots, most urgent first; run each outside
 * any transaction, with a timeout; finish each in a short transaction of its
 * own — finished, retried later, or dead, if the claim is still its own;
 * when there is nothing to claim, wait for a notification (or the slow
 * fallback poll). On a stop, let running jobs finish for the shutdown
 * timeout, release the rest, deregister. Without a supervisor, it also runs
 * a dispatcher and the recovery loop.
 *
 * @module
 */
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { type JobEvents, now } from "../../lib/events.ts";
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import {
  announceOutcome,
  type JobOutcome,
  performJob,
  type RecordedOutcome,
  type StoredJob,
} from "../../lib/jobs/perform.ts";
import type { Database } from "../../lib/postgres/database.ts";
import type { Worker } from "../../lib/step.ts";
import {
  checkRetryBackoff,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_BACKOFF,
  retryDelayMs,
} from "./backoff.ts";
import { claimReadyJobs, dispose, finishClaimedJob, releaseClaimsOf } from "./claims.ts";
import { Dispatcher } from "./dispatcher.ts";
import { Doorbell } from "./doorbell.ts";
import { DEFAULT_QUEUE } from "./enqueue.ts";
import { Heartbeat, heartbeatSettings } from "./heartbeat.ts";
import { Listener } from "./listener.ts";
import { deregisterProcess, registerProcess } from "./processes.ts";
import { RecoveryLoop } from "./recovery.ts";
import { SlotPool } from "./slots.ts";
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

/**
 * How long a stopping worker lets its running jobs finish before it releases
 * their claims back to ready (Solid Queue's `shutdown_timeout` is 5 s;
 * Sidekiq's is 25 s, under the 30 s Heroku and Kubernetes wait before
 * SIGKILL). It should be shorter than whatever sends the SIGKILL after the
 * SIGTERM, or the release never happens.
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** What the listening worker needs besides the pool: where to open its listening connection. */
export interface ListeningSetup {
  readonly databaseUrl: string;
  /** Counts the listening connection's statements into the instance's total. */
  readonly onStatement: () => void;
}
/** How long a loop waits after its own query failed (server restarting, say) before trying again. */
const ERROR_BACKOFF_MS = 1_000;
/**
 * The waits between attempts to record a job's outcome while the database
 * is away: the first after 100 ms (a blip), then twice as long each time,
 * up to 5 s. There is no limit on attempts — see `recordOutcome`. An outage
 * of an hour costs one attempt per waiting outcome every 5 s, and the
 * outcome lands at most 5 s after the server is back.
 */
const RECORD_RETRY_FIRST_MS = 100;
const RECORD_RETRY_MAX_MS = 5_000;
/** PostgreSQL's SQLSTATE for a row that references one that does not exist. */
const FOREIGN_KEY_VIOLATION = "23503";

/**
 * Registers this worker as a process (and heartbeats), then starts one
 * listening connection and one claiming loop with `concurrency` slots in
 * this process; its claims point at its process row. The loop claims as many jobs as there are free
 * slots, starts each in a slot, and claims again when a slot frees up — or,
 * when it found fewer jobs than free slots, waits for the doorbell: rung by a
 * notification, or by the listener when it has (re)connected.
 */
export function startClaimingWorker(
  database: Database,
  setup: ListeningSetup,
  events: JobEvents,
  options: WorkerStartOptions = {},
): Worker {
  const id = options.name ?? `${hostname()}:${process.pid}`;
  const registry = options.registry ?? workshopJobs();
  const fallbackInterval = options.pollIntervalMs ?? DEFAULT_FALLBACK_POLL_INTERVAL_MS;
  const beat = heartbeatSettings(options.heartbeatIntervalMs, options.aliveThresholdMs);
  const slots = new SlotPool(options.concurrency ?? 1);
  const queues = options.queues ?? [DEFAULT_QUEUE];
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const backoff = checkRetryBackoff(options.retryBackoff ?? DEFAULT_RETRY_BACKOFF);
  const stopping = new AbortController();
  /** Aborted when a stop's shutdown timeout passes: outcomes not recorded by then are given up. */
  const givingUp = new AbortController();
  /**
   * The jobs this worker holds a claim on: `running`, or `recording` — it
   * ran, and its outcome is not written yet. What a stop gives back, and why.
   */
  const held = new Map<string, "running" | "recording">();
  const doorbell = new Doorbell();
  const listener = new Listener({
    url: setup.databaseUrl,
    channel: database.schema,
    applicationName: database.schema,
    onWake: () => doorbell.ring(),
    onError: (error) =>
      events.emit("workerError", { workerId: `${id}/listener`, error: String(error), at: now() }),
    onStatement: setup.onStatement,
  });
  listener.start();

  // #region lifecycle
  let heartbeat: Heartbeat | undefined;
  let dispatcher: Dispatcher | undefined;
  let recovery: RecoveryLoop | undefined;
  let processId: string | undefined;
  /** Set when this process learns that it was pruned: it registers again before its next claim. */
  let pruned = false;
  /** Registers (retrying while the database is away), then heartbeats, then claims until stopped. */
  async function live(): Promise<void> {
    processId = await register();
    if (processId === undefined) return; // stopped before it could register
    heartbeat = startHeartbeat(processId);
    // A supervised worker leaves dispatching and recovery to its supervisor.
    if (options.supervisorId === undefined) {
      recovery = new RecoveryLoop(database, {
        intervalMs: beat.intervalMs,
        policy: { maxAttemptsOf, backoff },
        self: () => processId,
        onRecovered: (dead) => {
          for (const job of dead.jobs) {
            events.emit("recovered", {
              jobId: job.jobId,
              name: job.name,
              workerId: `${id}/recovery`,
              deadProcess: `${dead.processId} (${dead.name})`,
              disposition: job.disposition,
              at: now(),
            });
          }
        },
        onError: (error) =>
          events.emit("workerError", {
            workerId: `${id}/recovery`,
            error: String(error),
            at: now(),
          }),
      });
      dispatcher = new Dispatcher(database, {
        intervalMs: options.dispatchIntervalMs,
        onError: (error) =>
          events.emit("workerError", {
            workerId: `${id}/dispatcher`,
            error: String(error),
            at: now(),
          }),
      });
    }
    await claimLoop();
  }

  function startHeartbeat(processId: string): Heartbeat {
    return new Heartbeat(database, {
      processId,
      intervalMs: beat.intervalMs,
      onError: (error) =>
        events.emit("workerError", {
          workerId: `${id}/heartbeat`,
          error: String(error),
          at: now(),
        }),
      onBeat: checkOnSupervisor,
      onPruned: () => {
        pruned = true;
        doorbell.ring();
      },
    });
  }

  /**
   * This process was taken for dead — it was silent for longer than its
   * threshold: a long pause, a database away for a minute — and pruned, its
   * jobs sent back through the retry path. It is alive, so it registers
   * again, as a new process, and goes on claiming. The jobs it still runs
   * under the old registration end as `superseded`: they run again
   * elsewhere. (Solid Queue's processes stop instead, and leave starting a
   * new one to their supervisor; here a worker may have none.)
   */
  async function registerAgain(): Promise<void> {
    events.emit("workerError", {
      workerId: id,
      error: `process ${processId} was taken for dead and pruned (its jobs went back through the retry path): registering again`,
      at: now(),
    });
    pruned = false;
    await heartbeat?.stop();
    processId = await register();
    if (processId !== undefined) heartbeat = startHeartbeat(processId);
  }

  async function register(): Promise<string | undefined> {
    while (!stopping.signal.aborted) {
      try {
        return await registerProcess(database, {
          kind: "Worker",
          name: id,
          supervisorId: options.supervisorId,
          aliveThresholdMs: beat.thresholdMs,
        });
      } catch (error) {
        events.emit("workerError", { workerId: id, error: String(error), at: now() });
        await sleep(ERROR_BACKOFF_MS, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
    return undefined;
  }

  /**
   * A worker started by a supervisor stops when its supervisor is gone (its
   * parent process changed: the supervisor was killed and the worker was
   * handed to init). Solid Queue's workers do the same. It stops the way a
   * SIGTERM would stop it — finish the running jobs, deregister — by sending
   * itself one, so the worker command's usual shutdown runs.
   */
  const parentAtStart = process.ppid;
  function checkOnSupervisor(): void {
    if (options.supervisorId === undefined || process.ppid === parentAtStart) return;
    events.emit("workerError", {
      workerId: id,
      error: `Supervisor ${options.supervisorId} (pid ${parentAtStart}) is gone: stopping.`,
      at: now(),
    });
    process.kill(process.pid, "SIGTERM");
  }
  // #endregion lifecycle

  // #region claim-loop
  async function claimLoop(): Promise<void> {
    while (!stopping.signal.aborted) {
      await slots.waitForFree(stopping.signal);
      if (pruned) await registerAgain();
      if (stopping.signal.aborted || processId === undefined) break;
      const rungBefore = doorbell.rings; // before looking, so no ring is missed
      const free = slots.free;
      let jobs: StoredJob[];
      try {
        // A short transaction: committed before any of these jobs starts.
        jobs = await claimReadyJobs(database, processId, queues, free);
      } catch (error) {
        // A claim that points at a process row that is gone: pruned, and
        // the heartbeat has not noticed yet.
        if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) pruned = true;
        events.emit("workerError", { workerId: id, error: String(error), at: now() });
        await sleep(ERROR_BACKOFF_MS, undefined, { signal: stopping.signal }).catch(() => {});
        continue;
      }
      const claimedAs = processId;
      for (const job of jobs) {
        slots.run((slot) => runClaimedJob(job, claimedAs, `${id}/${slot}`));
      }
      // Fewer than asked for: the queue is empty for now. Wait for a ring.
      if (jobs.length < free) {
        await doorbell.waitForRingAfter(rungBefore, fallbackInterval, stopping.signal);
      }
    }
  }
  // #endregion claim-loop

  // #region run
  /**
   * Runs one claimed job with no transaction open and no connection held:
   * between the claim's commit and the finish, this worker holds nothing in
   * the database but the claimed row. An attempt that outlives its timeout
   * (the job's `timeoutMs`, or the worker's `jobTimeoutMs`) is failed, and
   * its slot is free again — see `performJob` for what that cannot stop.
   * A failed attempt is retried after a backoff while the job has attempts
   * left (its `maxAttempts`, or {@link DEFAULT_MAX_ATTEMPTS}); after the
   * last one, it goes to the dead queue.
   */
  async function runClaimedJob(job: StoredJob, claimedAs: string, workerId: string): Promise<void> {
    held.set(job.id, "running");
    await options.hooks?.afterPick?.(job.id, workerId);
    const context = { registry, workerId, events, timeoutMs: options.jobTimeoutMs };
    const outcome = await performJob(job, context);
    try {
      announceOutcome(context, job, await recordOutcome(job, claimedAs, workerId, outcome));
    } catch {
      // Given up at the shutdown timeout; stop() said so, and gave the job back.
    } finally {
      held.delete(job.id);
    }
  }

  /** The wait before the job's next attempt, or `undefined` when it has none left. */
  function nextRetryDelay(job: StoredJob, outcome: JobOutcome): number | undefined {
    if (outcome.status === "finished") return undefined;
    return retryDelayMs(job.attempt ?? 1, maxAttemptsOf(job.name), outcome.retryable, backoff);
  }

  function maxAttemptsOf(name: string): number {
    return registry.has(name)
      ? (registry.lookup(name).maxAttempts ?? DEFAULT_MAX_ATTEMPTS)
      : DEFAULT_MAX_ATTEMPTS;
  }
  // #endregion run

  /**
   * Finishes the job if the claim is still this process's, trying again
   * until the database takes it, however long it is away, and says what it
   * recorded — nothing, when the claim had been taken away. The job has run;
   * its outcome is the one thing this worker must not lose. Giving up after
   * a few attempts would leave the claim behind while the worker lives on and
   * heartbeats: recovery never touches the claims of a live process, so
   * nothing would finish the job or run it again until the worker stopped.
   *
   * Meanwhile the job keeps its slot. A job whose outcome is not written is
   * not done: its claim is still taken, and a stop waits for it as for a
   * running job. Freeing the slot would let the worker claim more work while
   * it cannot record the work it did (and while the database is away it
   * could not claim anyway).
   *
   * The one give-up is a stop's: once the shutdown timeout has passed, the
   * attempts end and `stop()` hands the job back (see releaseHeldJobs).
   */
  async function recordOutcome(
    job: StoredJob,
    claimedAs: string,
    workerId: string,
    outcome: JobOutcome,
  ): Promise<RecordedOutcome> {
    held.set(job.id, "recording");
    const disposition = dispose(outcome, nextRetryDelay(job, outcome));
    for (let waitMs = RECORD_RETRY_FIRST_MS; ; waitMs = Math.min(waitMs * 2, RECORD_RETRY_MAX_MS)) {
      try {
        const { stillOurs, retryAt } = await finishClaimedJob(
          database,
          job,
          claimedAs,
          disposition,
        );
        if (!stillOurs) return { status: "superseded", outcome: outcome.status };
        if (outcome.status === "finished" || retryAt === undefined) return outcome;
        return { status: "retrying", error: outcome.error, attempt: job.attempt ?? 1, retryAt };
      } catch (error) {
        if (givingUp.signal.aborted) throw error;
        events.emit("workerError", {
          workerId,
          error: `job ${job.id} ran; recording its outcome failed: ${error}`,
          at: now(),
        });
        await sleep(waitMs, undefined, { signal: givingUp.signal }).catch(() => {});
        if (givingUp.signal.aborted) throw error;
      }
    }
  }

  /**
   * Gives this process's claims back to ready, and says why for each: the
   * job was still running at the shutdown timeout, or it had ended and its
   * outcome could not be recorded by then (the database was away). Either
   * way another worker runs it now, instead of after this process is pruned.
   * If the database is still away, the claims stay, the process row cannot
   * be deleted (the claims point at it), and recovery sends the jobs through
   * the retry path once the row goes stale — later, not never; this says so.
   */
  async function releaseHeldJobs(
    processId: string,
    heldAtTimeout: ReadonlyMap<string, "running" | "recording">,
  ): Promise<void> {
    try {
      for (const job of await releaseClaimsOf(database, processId)) {
        const reason =
          heldAtTimeout.get(job.jobId) === "recording" ? "outcome not recorded" : "still running";
        events.emit("released", { ...job, workerId: id, reason, at: now() });
      }
    } catch (error) {
      const jobs = [...heldAtTimeout.keys()].map((jobId) => ` (job ${jobId})`).join("");
      events.emit("workerError", {
        workerId: id,
        error: `could not give back the jobs this process still holds${jobs}: ${error}. They stay claimed by process ${processId} until it is taken for dead, ${beat.thresholdMs / 1000} s after its last heartbeat; then recovery retries them`,
        at: now(),
      });
    }
  }

  const running = live();
  return {
    id,
    // #region stop
    async stop() {
      // Stop claiming, let the jobs that run finish (and record themselves),
      // then say goodbye: a process that deregistered is not dead.
      stopping.abort();
      await running;
      // Let the running jobs finish, for at most the shutdown timeout; then
      // give the claims this process still holds back to ready — those of
      // jobs still running, and any whose finish could not be written — so
      // another worker runs them now instead of after this process is pruned.
      const timeout = new AbortController();
      await Promise.race([
        slots.idle(),
        sleep(shutdownTimeoutMs, undefined, { signal: timeout.signal }).catch(() => {}),
      ]);
      timeout.abort(); // the jobs finished first: no timer left to keep the process alive
      // Outcomes not recorded by now are given up, and their jobs given back.
      const heldAtTimeout = new Map(held);
      givingUp.abort();
      if (processId !== undefined) await releaseHeldJobs(processId, heldAtTimeout);
      await recovery?.stop();
      await dispatcher?.stop();
      await heartbeat?.stop();
      if (processId !== undefined) {
        await deregisterProcess(database, processId).catch((error: unknown) => {
          events.emit("workerError", { workerId: id, error: String(error), at: now() });
        });
      }
      await listener.stop();
    },
    // #endregion stop
  };
}

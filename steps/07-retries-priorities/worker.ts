/**
 * The worker: register as a process and heartbeat; claim as many ready jobs
 * of its queues as it has free slots, most urgent first; run each outside
 * any transaction, with a timeout; finish each in a short transaction of its
 * own — finished, retried later, or dead; when there is nothing to claim,
 * wait for a notification (or the slow fallback poll); deregister on a clean
 * stop. Without a supervisor, it also runs a dispatcher.
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
import { claimReadyJobs, dispose, finishClaimedJob } from "./claims.ts";
import { Dispatcher } from "./dispatcher.ts";
import { Doorbell } from "./doorbell.ts";
import { DEFAULT_QUEUE } from "./enqueue.ts";
import { Heartbeat, heartbeatSettings } from "./heartbeat.ts";
import { Listener } from "./listener.ts";
import { deregisterProcess, registerProcess } from "./processes.ts";
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
  const backoff = checkRetryBackoff(options.retryBackoff ?? DEFAULT_RETRY_BACKOFF);
  const stopping = new AbortController();
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
  let processId: string | undefined;
  /** Registers (retrying while the database is away), then heartbeats, then claims until stopped. */
  async function live(): Promise<void> {
    processId = await register();
    if (processId === undefined) return; // stopped before it could register
    heartbeat = new Heartbeat(database, {
      processId,
      intervalMs: beat.intervalMs,
      onError: (error) =>
        events.emit("workerError", {
          workerId: `${id}/heartbeat`,
          error: String(error),
          at: now(),
        }),
      onBeat: checkOnSupervisor,
    });
    // A supervised worker leaves dispatching to its supervisor.
    if (options.supervisorId === undefined) {
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
    await claimLoop(processId);
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
  async function claimLoop(processId: string): Promise<void> {
    while (!stopping.signal.aborted) {
      await slots.waitForFree(stopping.signal);
      if (stopping.signal.aborted) break;
      const rungBefore = doorbell.rings; // before looking, so no ring is missed
      const free = slots.free;
      let jobs: StoredJob[];
      try {
        // A short transaction: committed before any of these jobs starts.
        jobs = await claimReadyJobs(database, processId, queues, free);
      } catch (error) {
        events.emit("workerError", { workerId: id, error: String(error), at: now() });
        await sleep(ERROR_BACKOFF_MS, undefined, { signal: stopping.signal }).catch(() => {});
        continue;
      }
      for (const job of jobs) slots.run((slot) => runClaimedJob(job, `${id}/${slot}`));
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
   * last one, it goes to the dead queue. The job keeps its slot until its
   * outcome is recorded (see `recordOutcome`).
   */
  async function runClaimedJob(job: StoredJob, workerId: string): Promise<void> {
    await options.hooks?.afterPick?.(job.id, workerId);
    const context = { registry, workerId, events, timeoutMs: options.jobTimeoutMs };
    const outcome = await performJob(job, context);
    announceOutcome(context, job, await recordOutcome(job, workerId, outcome));
  }

  /** The wait before the job's next attempt, or `undefined` when it has none left. */
  function nextRetryDelay(job: StoredJob, outcome: JobOutcome): number | undefined {
    if (outcome.status === "finished") return undefined;
    const maxAttempts = registry.has(job.name)
      ? (registry.lookup(job.name).maxAttempts ?? DEFAULT_MAX_ATTEMPTS)
      : DEFAULT_MAX_ATTEMPTS;
    return retryDelayMs(job.attempt ?? 1, maxAttempts, outcome.retryable, backoff);
  }
  // #endregion run

  /**
   * Finishes the job, trying again until the database takes it, however long
   * it is away, and says what it recorded (finished, retry later, or dead).
   * The job has run; its outcome is the one thing this worker must not lose.
   * Giving up after a few attempts would leave the claim behind while the
   * worker lives on: nothing would ever finish the job, or hand it to
   * another worker.
   *
   * Meanwhile the job keeps its slot. A job whose outcome is not written is
   * not done: its claim is still taken, and `stop()` waits for it as for a
   * running job. Freeing the slot would let the worker claim more work while
   * it cannot record the work it did (and while the database is away it
   * could not claim anyway).
   */
  async function recordOutcome(
    job: StoredJob,
    workerId: string,
    outcome: JobOutcome,
  ): Promise<RecordedOutcome> {
    const disposition = dispose(outcome, nextRetryDelay(job, outcome));
    for (let waitMs = RECORD_RETRY_FIRST_MS; ; waitMs = Math.min(waitMs * 2, RECORD_RETRY_MAX_MS)) {
      try {
        const retryAt = await finishClaimedJob(database, job, disposition);
        if (outcome.status === "finished" || retryAt === undefined) return outcome;
        return { status: "retrying", error: outcome.error, attempt: job.attempt ?? 1, retryAt };
      } catch (error) {
        events.emit("workerError", {
          workerId,
          error: `job ${job.id} ran; recording its outcome failed: ${error}`,
          at: now(),
        });
        await sleep(waitMs);
      }
    }
  }

  const running = live();
  return {
    id,
    async stop() {
      // Stop claiming, let the jobs that run finish (and record themselves),
      // then say goodbye: a process that deregistered is not dead.
      stopping.abort();
      await running;
      await slots.idle();
      await dispatcher?.stop();
      await heartbeat?.stop();
      if (processId !== undefined) {
        await deregisterProcess(database, processId).catch((error: unknown) => {
          events.emit("workerError", { workerId: id, error: String(error), at: now() });
        });
      }
      await listener.stop();
    },
  };
}

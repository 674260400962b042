/**
 * The worker, assembled from its parts: its life as a process
 * (lifecycle.ts: register, heartbeat, register again when taken for dead,
 * deregister), the claiming loop (claim-loop.ts, step 10: a batch of ready
 * jobs of its queues, most urgent first, into a local buffer ahead of its
 * slots), the loop that starts buffered jobs in free slots
 * (claim-buffer.ts), what happens to each job (job-runner.ts: run outside
 * any transaction, with a timeout; finished, retried later, or dead), the
 * finisher that writes outcomes in batches if the claims are still its own
 * (finisher.ts, step 10), and its stop (shutdown.ts: give back what has not
 * started, finish what can finish within the shutdown timeout, give back the
 * rest). Without a supervisor, it also runs a dispatcher and the recovery
 * loop.
 *
 * @module
 */
import { hostname } from "node:os";
import { type JobEvents, now } from "../../lib/events.ts";
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import type { JobRegistry } from "../../lib/jobs/registry.ts";
import type { Database } from "../../lib/postgres/database.ts";
import type { RetryBackoff, Worker } from "../../lib/step.ts";
import { checkRetryBackoff, DEFAULT_RETRY_BACKOFF, maxAttemptsOf } from "./backoff.ts";
import { ClaimBuffer, startUntilStopped } from "./claim-buffer.ts";
import { claimUntilStopped } from "./claim-loop.ts";
import { Dispatcher } from "./dispatcher.ts";
import { Doorbell } from "./doorbell.ts";
import { DEFAULT_QUEUE } from "./enqueue.ts";
import { Finisher } from "./finisher.ts";
import { heartbeatSettings } from "./heartbeat.ts";
import { JobRunner } from "./job-runner.ts";
import { ProcessLifecycle } from "./lifecycle.ts";
import { Listener } from "./listener.ts";
import { Pace } from "./pace.ts";
import { RecoveryLoop } from "./recovery.ts";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, stopWorker } from "./shutdown.ts";
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
 * Step 10's two settings. The batch size: the most jobs one claim takes,
 * the most the worker claims ahead of its idle slots, the most outcomes one
 * statement writes — and, twice over, the most outcomes that may wait for
 * the write before the worker stops starting jobs (job-runner.ts), which is
 * what bounds the jobs a crash re-runs. The flush delay: how long an
 * outcome waits for others, while some of the worker's jobs still run,
 * before its batch is written.
 *
 * 500. What limits a busy worker is how many outcomes one write takes: it
 * writes one batch at a time (finisher.ts), and at a cap of 100 every claim
 * and every write was full (0.021 statements per job) — at a write of 4–6 ms
 * on a loaded 2-core machine, no more than 17,000–25,000 jobs a second,
 * whatever the slots did. Measured with the benchmark's throughput scenario
 * (10,000 no-op jobs, 10 slots; five rounds alternating, medians, 2 cores): caps of
 * 100, 200, 300 and 500 ran 17,702, 21,766, 22,550 and 26,633 jobs/s, and
 * graphile-worker batched 17,036 in the same rounds; in another probe, 300,
 * 500 and 1,000 ran 22,856, 23,474 and 24,051 (graphile-worker batched
 * 17,688). From a few hundred on, the cap no longer binds: the batches a
 * worker makes are set by its pace and a write's latency (at 500, about 150
 * jobs per statement). 500 is also the local queue of graphile-worker's
 * batched settings. What it costs: the cap bounds what a crash re-runs when
 * the writes fall behind (a slow disk, a database away) — up to two
 * batches of outcomes, a thousand jobs, where 100 allowed two hundred; at
 * the worker's pace it holds far fewer (the benchmark's kill -9). A batch
 * of 1 is step 08's one commit per job, on one connection (the benchmark's
 * grid shows both ends). A flush delay of 0: an outcome is written as soon
 * as the write before it is done, so a job is announced finished as soon as it
 * can be. A delay makes writes larger at no cost to the slots — in one run
 * of the grid, at batch 100, 5 ms ran ×1.09 the jobs/s of 0 and 50 ms
 * ×1.11, with less CPU — and holds every outcome for up to its length,
 * unannounced and exposed to a crash. graphile-worker's own benchmark uses
 * `completeJobBatchDelay: 0`.
 */
export const DEFAULT_BATCH_SIZE = 500;
export const DEFAULT_FLUSH_DELAY_MS = 0;

/**
 * The window of the worker's pace (pace.ts): it claims ahead as many jobs
 * as it ended in the last 10 ms. Long enough to cover a claim's round trip
 * under load (1–3 ms here), so the slots of a busy worker find the next
 * jobs buffered; short enough that a buffered job waits about that long,
 * and that a worker whose slots turn to long jobs stops claiming ahead
 * 10 ms later.
 */
const PACE_WINDOW_MS = 10;

/** What the listening worker needs besides the pool: where to open its listening connection. */
export interface ListeningSetup {
  readonly databaseUrl: string;
  /** Counts the listening connection's statements into the instance's total. */
  readonly onStatement: () => void;
}

/**
 * Registers this worker as a process (and heartbeats), then starts one
 * listening connection and one claiming loop with `concurrency` slots in
 * this process; its claims point at its process row.
 */
export function startClaimingWorker(
  database: Database,
  setup: ListeningSetup,
  events: JobEvents,
  options: WorkerStartOptions = {},
): Worker {
  const parts = assembleWorker(database, setup, events, options);
  const claiming = registerThenClaim(parts, options);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  return { id: parts.name, stop: () => stopWorker({ ...parts, claiming, shutdownTimeoutMs }) };
}

/** A worker's parts, before it claims anything. */
interface WorkerParts {
  readonly database: Database;
  readonly events: JobEvents;
  readonly name: string;
  readonly report: (part: string | undefined) => (error: unknown) => void;
  readonly stopping: AbortController;
  readonly slots: SlotPool;
  readonly buffer: ClaimBuffer;
  /** Rung when a slot may have room for another claim: a job ran, a buffered one was dropped (see claim-loop.ts). */
  readonly room: Doorbell;
  /** Rung when a job's outcome is written (or given up on): it may start more (see job-runner.ts). */
  readonly written: Doorbell;
  /** How many jobs it ended lately: how far ahead it claims (see claim-loop.ts). */
  readonly pace: Pace;
  readonly batchSize: number;
  readonly doorbell: Doorbell;
  readonly listener: Listener;
  readonly lifecycle: ProcessLifecycle;
  readonly aliveThresholdMs: number;
  readonly runner: JobRunner;
  readonly dispatcher?: Dispatcher;
  readonly recovery?: RecoveryLoop;
}

function assembleWorker(
  database: Database,
  setup: ListeningSetup,
  events: JobEvents,
  options: WorkerStartOptions,
): WorkerParts {
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const report = reporter(events, name);
  const stopping = new AbortController();
  const doorbell = new Doorbell();
  const listener = startListener(database, setup, doorbell, report("listener"));
  const beat = heartbeatSettings(options.heartbeatIntervalMs, options.aliveThresholdMs);
  const lifecycle = new ProcessLifecycle(database, {
    name,
    supervisorId: options.supervisorId,
    beat,
    stopping: stopping.signal,
    report: (part, error) => report(part)(error),
  });
  const registry = options.registry ?? workshopJobs();
  const backoff = checkRetryBackoff(options.retryBackoff ?? DEFAULT_RETRY_BACKOFF);
  const { jobTimeoutMs, hooks } = options;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const room = new Doorbell();
  const written = new Doorbell();
  const pace = new Pace(PACE_WINDOW_MS);
  const finisher = new Finisher(database, {
    batchSize,
    flushDelayMs: options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS,
    running: () => runner.running,
    onError: (error, jobIds) =>
      report("finisher")(
        `jobs ${jobIds.join(", ")} ran; recording their outcomes failed: ${error}`,
      ),
  });
  const runner: JobRunner = new JobRunner({
    finisher,
    registry,
    events,
    name,
    backoff,
    jobTimeoutMs,
    hooks,
    onRan: () => {
      pace.ended();
      room.ring();
    },
    onReleased: () => written.ring(),
  });
  // A supervised worker leaves dispatching and recovery to its supervisor.
  const housekeeping =
    options.supervisorId === undefined
      ? {
          dispatcher: new Dispatcher(database, {
            intervalMs: options.dispatchIntervalMs,
            onError: report("dispatcher"),
          }),
          recovery: startRecovery(database, { events, name, registry, backoff, beat, lifecycle }),
        }
      : {};
  const slots = new SlotPool(options.concurrency ?? 1);
  const aliveThresholdMs = beat.thresholdMs;
  return {
    database,
    events,
    name,
    report,
    stopping,
    slots,
    buffer: new ClaimBuffer(),
    room,
    written,
    pace,
    batchSize,
    doorbell,
    listener,
    lifecycle,
    aliveThresholdMs,
    runner,
    ...housekeeping,
  };
}

/** A part of this worker failed (the database is away, say): it says so, and tries again. */
function reporter(events: JobEvents, name: string) {
  return (part: string | undefined) => (error: unknown) =>
    events.emit("workerError", {
      workerId: part === undefined ? name : `${name}/${part}`,
      error: String(error),
      at: now(),
    });
}

/** The listening connection: it rings the doorbell on every notification (see listener.ts). */
function startListener(
  database: Database,
  setup: ListeningSetup,
  doorbell: Doorbell,
  onError: (error: unknown) => void,
): Listener {
  const listener = new Listener({
    url: setup.databaseUrl,
    channel: database.schema,
    applicationName: database.schema,
    onWake: () => doorbell.ring(),
    onError,
    onStatement: setup.onStatement,
  });
  listener.start();
  return listener;
}

/** Registers, then claims into the buffer and starts buffered jobs, until stopped. */
async function registerThenClaim(parts: WorkerParts, options: WorkerStartOptions): Promise<void> {
  const { lifecycle, runner, buffer, slots, room, written, pace, batchSize, report } = parts;
  const fallbackIntervalMs = options.pollIntervalMs ?? DEFAULT_FALLBACK_POLL_INTERVAL_MS;
  const concurrency = options.concurrency ?? 1;
  if ((await lifecycle.register()) === undefined) return; // stopped before it could register
  const stopping = parts.stopping.signal;
  await Promise.all([
    claimUntilStopped(lifecycle, {
      ...parts,
      queues: options.queues ?? [DEFAULT_QUEUE],
      idleSlots: () => concurrency - runner.running,
      endedLately: () => pace.endedLately(),
      fallbackIntervalMs,
      stopping,
      report: report(undefined),
    }),
    startUntilStopped({
      buffer,
      slots,
      stopping,
      mayStart: () => runner.mayStart(batchSize),
      released: written,
      fallbackIntervalMs,
      currentProcessId: () => lifecycle.processId,
      run: (job, processId, slot) => runner.run(job, processId, slot),
      dropped: () => room.ring(),
    }),
  ]);
}

/**
 * The recovery loop of a worker without a supervisor: it prunes dead
 * processes (never itself) every heartbeat interval, and announces each job
 * it sent back.
 */
function startRecovery(
  database: Database,
  worker: {
    readonly events: JobEvents;
    readonly name: string;
    readonly registry: JobRegistry;
    readonly backoff: RetryBackoff;
    readonly beat: { readonly intervalMs: number };
    readonly lifecycle: ProcessLifecycle;
  },
): RecoveryLoop {
  const { events, name, registry } = worker;
  const workerId = `${name}/recovery`;
  return new RecoveryLoop(database, {
    intervalMs: worker.beat.intervalMs,
    policy: { maxAttemptsOf: (job) => maxAttemptsOf(registry, job), backoff: worker.backoff },
    self: () => worker.lifecycle.processId,
    onRecovered: (dead) => {
      for (const job of dead.jobs) {
        const deadProcess = `${dead.processId} (${dead.name})`;
        events.emit("recovered", { ...job, workerId, deadProcess, at: now() });
      }
    },
    onError: (error) => events.emit("workerError", { workerId, error: String(error), at: now() }),
  });
}

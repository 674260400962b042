/**
 * The worker, assembled from its parts: its life as a process
 * (lifecycle.ts: register, heartbeat, deregister), the claiming loop
 * (claim-loop.ts: as many ready jobs as it has free slots), what happens to
 * each job it claimed (job-runner.ts: run outside any transaction, its
 * outcome recorded in a short transaction of its own), and its stop
 * (shutdown.ts: let the running jobs finish).
 *
 * @module
 */
import { hostname } from "node:os";
import { type JobEvents, now } from "../../lib/events.ts";
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import type { Database } from "../../lib/postgres/database.ts";
import type { Worker } from "../../lib/step.ts";
import { claimUntilStopped } from "./claim-loop.ts";
import { Doorbell } from "./doorbell.ts";
import { heartbeatSettings } from "./heartbeat.ts";
import { JobRunner } from "./job-runner.ts";
import { ProcessLifecycle } from "./lifecycle.ts";
import { Listener } from "./listener.ts";
import { stopWorker } from "./shutdown.ts";
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
  return { id: parts.name, stop: () => stopWorker({ ...parts, claiming }) };
}

/** A worker's parts, before it claims anything. */
interface WorkerParts {
  readonly database: Database;
  readonly events: JobEvents;
  readonly name: string;
  readonly report: (part: string | undefined) => (error: unknown) => void;
  readonly stopping: AbortController;
  readonly slots: SlotPool;
  readonly doorbell: Doorbell;
  readonly listener: Listener;
  readonly lifecycle: ProcessLifecycle;
  readonly runner: JobRunner;
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
  const runner = new JobRunner({ database, registry, events, name, hooks: options.hooks });
  const slots = new SlotPool(options.concurrency ?? 1);
  return {
    database,
    events,
    name,
    report,
    stopping,
    slots,
    doorbell,
    listener,
    lifecycle,
    runner,
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

/** Registers, then claims until stopped. */
async function registerThenClaim(parts: WorkerParts, options: WorkerStartOptions): Promise<void> {
  const { lifecycle, runner, report } = parts;
  const processId = await lifecycle.register();
  if (processId === undefined) return; // stopped before it could register
  await claimUntilStopped(processId, {
    ...parts,
    fallbackIntervalMs: options.pollIntervalMs ?? DEFAULT_FALLBACK_POLL_INTERVAL_MS,
    stopping: parts.stopping.signal,
    run: (job, slot) => runner.run(job, slot),
    report: report(undefined),
  });
}

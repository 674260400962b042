/**
 * The worker: `concurrency` slots, each blocked in BLMOVE on a connection of its own and
 * acknowledging on one they share, in a process that registers, beats, reaps the dead, moves due jobs, and hands back what it holds
 * when it stops.
 *
 * @module
 */
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { type JobEvents, now } from "../../lib/events.ts";
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import {
  announceOutcome,
  type JobOutcome,
  performJob,
  type RecordedOutcome,
} from "../../lib/jobs/perform.ts";
import { type CommandCounter, connectRedis } from "../../lib/redis/connection.ts";
import type { Worker } from "../../lib/step.ts";
import { acknowledge, type Disposition, dispositionOf } from "./acknowledge.ts";
import { checkRetryBackoff, DEFAULT_RETRY_BACKOFF } from "./backoff.ts";
import { encodeDeadJob } from "./dead-jobs.ts";
import { Heartbeat, heartbeatSettings } from "./heartbeat.ts";
import { processingKey } from "./keys.ts";
import { DamagedQueueEntryError, decodeJob, type JobPayload } from "./payload.ts";
import { leave, type RegisteredProcess, registerProcess } from "./processes.ts";
import { describeReapedJobs, type ReapPolicy, reapDeadProcesses } from "./reaper.ts";
import { DEFAULT_DISPATCH_INTERVAL_MS, Mover } from "./scheduled.ts";
import { takeNextJob } from "./take.ts";
import type { WorkerStartOptions } from "./worker-settings.ts";

/** How long a slot waits after one of its commands failed (not an outage: a WRONGTYPE, say). */
const ERROR_BACKOFF_MS = 1_000;
/** How long to wait before registering again when Redis refused (it is restarting, say). */
const REGISTER_RETRY_MS = 1_000;
/**
 * On SIGTERM, how long running jobs may finish before they are handed back to the queue —
 * Sidekiq's default (25 s: Heroku and Kubernetes kill 30 s after SIGTERM).
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

/** What a worker needs from the instance that starts it. */
export interface RedisWorkerContext {
  readonly url: string;
  readonly namespace: string;
  readonly counter: CommandCounter;
  /**
   * The instance's own connection, free while the slots block: it registers, beats, reaps,
   * moves due jobs and hands back.
   */
  readonly control: Redis;
  readonly events: JobEvents;
}

/** One slot: a loop and the connection it blocks on. */
interface Slot {
  readonly id: string;
  readonly connectionName: string;
  readonly connection: Redis;
  /** `taking` while its BLMOVE may be waiting on the server; `running` otherwise. */
  state: "taking" | "running";
  /** The job it runs, to say which were handed back at shutdown. */
  running?: JobPayload;
}

/**
 * Starts a worker in this process: it registers, then its slots take jobs. Without a
 * supervisor it also runs the reaper (at every beat) and the mover; a supervised worker
 * leaves both to its supervisor, one per group of processes.
 */
export function startReliableWorker(
  context: RedisWorkerContext,
  options: WorkerStartOptions = {},
): Worker {
  const { events, control } = context;
  const id = options.name ?? `${hostname()}:${process.pid}`;
  const registry = options.registry ?? workshopJobs();
  const beat = heartbeatSettings(options.heartbeatIntervalMs, options.aliveThresholdMs);
  const backoff = checkRetryBackoff(options.retryBackoff ?? DEFAULT_RETRY_BACKOFF);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const supervised = options.supervisorId !== undefined;
  const stopping = new AbortController();
  const complain = (error: unknown, workerId = id) =>
    events.emit("workerError", { workerId, error: String(error), at: now() });
  /** A stopping worker takes nothing more; otherwise each acknowledge takes the next job. */
  const takeNext = () => !stopping.signal.aborted;

  const slots: Slot[] = Array.from({ length: options.concurrency ?? 1 }, (_, index) => {
    const slotId = `${id}/${index + 1}`;
    const connectionName = `${context.namespace}/${slotId}`;
    return {
      id: slotId,
      connectionName,
      state: "running",
      connection: connectRedis({
        url: context.url,
        namespace: context.namespace,
        name: connectionName,
        counter: context.counter,
        // As in step 04: a slot waits through an outage instead of failing.
        waitThroughOutages: true,
        onUnreachable: (error) => complain(error, slotId),
      }),
    };
  });

  // #region acknowledger
  // Every slot acknowledges on this one connection, not on its own: acknowledges issued in the
  // same turn of the event loop then leave in one write and come back in one read. A
  // round trip costs the worker more than a no-op job does — a system call each way — and
  // before this connection a CPU profile of the throughput benchmark spent a third of the
  // worker's time in socket writes. The slots keep their own connections for `BLMOVE`, which
  // blocks its connection and so cannot share one. (BullMQ runs its scripts on one shared
  // connection too, and blocks on another.)
  const acknowledgerName = `${context.namespace}/${id}/acknowledge`;
  const acknowledger = connectRedis({
    url: context.url,
    namespace: context.namespace,
    name: acknowledgerName,
    counter: context.counter,
    waitThroughOutages: true,
    autoPipelining: true,
    onUnreachable: (error) => complain(error),
  });
  // #endregion acknowledger

  const policy: ReapPolicy = { registry, backoff };
  async function reap(self: string): Promise<void> {
    try {
      for (const dead of await reapDeadProcesses(control, policy, self)) {
        const deadProcess = `${dead.process.id} (${dead.process.name}, pid ${dead.process.pid})`;
        complain(`process ${deadProcess} is dead; ${describeReapedJobs(dead.jobs)}`);
        for (const job of dead.jobs) {
          events.emit("recovered", {
            ...{ jobId: job.id, name: job.name, workerId: id, at: now() },
            ...{ deadProcess, disposition: job.to },
          });
        }
      }
    } catch (error) {
      complain(`reaping failed (${error}); retrying at the next beat`);
    }
  }

  /**
   * A supervised worker stops when its supervisor is gone (its parent process changed: the
   * supervisor was killed and the worker was handed to init), as step 08's do: nobody reaps
   * for it any more, and its output goes to pipes nobody reads. It stops as on SIGTERM — by
   * sending itself one, once — so the worker command's usual shutdown runs: finish what
   * ends within the timeout, hand back the rest, leave.
   */
  const parentAtStart = process.ppid;
  let toldToStop = false;
  async function checkOnSupervisor(): Promise<void> {
    if (toldToStop || process.ppid === parentAtStart) return;
    toldToStop = true;
    complain(`supervisor ${options.supervisorId} (pid ${parentAtStart}) is gone: stopping`);
    process.kill(process.pid, "SIGTERM");
  }

  let heartbeat: Heartbeat | undefined;
  let mover: Mover | undefined;
  const registered = (async (): Promise<RegisteredProcess | undefined> => {
    while (!stopping.signal.aborted) {
      try {
        const me = await registerProcess(control, {
          kind: "Worker",
          name: id,
          supervisorId: options.supervisorId ?? null,
          aliveThresholdMs: beat.thresholdMs,
        });
        heartbeat = new Heartbeat(control, me, {
          intervalMs: beat.intervalMs,
          onError: (error) => complain(`heartbeat failed (${error}); retrying`),
          onRegisteredAgain: () =>
            complain(`was taken for dead and reaped; registered again as process ${me.id}`),
          onBeat: supervised ? checkOnSupervisor : () => reap(me.id),
        });
        if (!supervised) {
          mover = new Mover(
            control,
            options.dispatchIntervalMs ?? DEFAULT_DISPATCH_INTERVAL_MS,
            (error) => complain(`moving due jobs failed (${error}); retrying`),
          );
          await reap(me.id); // what died while nobody watched
        }
        return me;
      } catch (error) {
        complain(`registering failed (${error}); retrying`);
        await sleep(REGISTER_RETRY_MS, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
    return undefined;
  })();

  async function runSlot(slot: Slot): Promise<void> {
    const me = await registered;
    if (me === undefined) return;
    // The next job, when the acknowledge of the last one took it (see `acknowledge.ts`). If
    // the loop ends with one here, it is in the processing list, and `leave` hands it back.
    let taken: string | null = null;
    while (!stopping.signal.aborted) {
      try {
        if (taken === null) {
          slot.state = "taking";
          taken = await takeNextJob(slot.connection, processingKey(me.id));
          slot.state = "running";
        }
        const entry = taken;
        taken = null;
        taken = await runEntry(slot, me.id, entry);
      } catch (error) {
        slot.state = "running";
        if (stopping.signal.aborted) return; // stop() closed the connection under it
        complain(error, slot.id);
        await sleep(ERROR_BACKOFF_MS, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
  }

  // #region run-entry
  /** Runs one taken entry and acknowledges it; resolves the next job, if the acknowledge took one. */
  async function runEntry(slot: Slot, processId: string, entry: string): Promise<string | null> {
    let job: JobPayload;
    try {
      job = decodeJob(entry);
    } catch (error) {
      if (!(error instanceof DamagedQueueEntryError)) throw error;
      const record = encodeDeadJob({
        ...{ id: null, name: null, arguments: entry, enqueuedAt: 0, attempts: 1 },
        ...{ error: `${error.name}: ${error.message}`, stack: null, failedAt: Date.now() },
      });
      const dead: Disposition = { kind: "dead", record };
      const { next } = await acknowledge(acknowledger, processId, entry, dead, takeNext());
      complain(error.message, slot.id);
      return next;
    }
    await options.hooks?.afterPick?.(job.id, slot.id);
    // The job is in this process's processing list from the BLMOVE to the acknowledge.
    slot.running = job;
    const jobContext = { registry, workerId: slot.id, events };
    const outcome = await performJob(job, jobContext);
    const disposition = dispositionOf(job, outcome, registry, backoff);
    const { recorded, next } = await acknowledge(
      acknowledger,
      processId,
      entry,
      disposition,
      takeNext(),
    );
    slot.running = undefined;
    announceOutcome(
      jobContext,
      job,
      recorded
        ? asRecorded(job, disposition, outcome)
        : {
            status: "superseded",
            outcome: outcome.status,
          },
    );
    return next;
  }
  // #endregion run-entry

  const loops = slots.map(runSlot);

  // #region stop
  /**
   * Stops taking, lets running jobs finish for up to the shutdown timeout, then hands back
   * whatever is still in the processing list and deregisters (`leave`, one script).
   *
   * A slot blocked in BLMOVE is woken by closing its connection — what step 04 could not do:
   * there, a job the server popped just as the connection closed was in flight, and lost.
   * Here the server moved it into our processing list in the same step as it took it, so it
   * is not in flight: `leave` hands it back with the rest. One wait makes that exact: `leave`
   * runs only once the server has let go of the closed connections (`CLIENT LIST` no longer
   * shows them), so no BLMOVE of ours can be served after it.
   */
  async function stopWorker(): Promise<void> {
    stopping.abort();
    for (const slot of slots) if (slot.state === "taking") slot.connection.disconnect();
    const finished = Promise.all(loops);
    const timer = new AbortController();
    const timedOut = await Promise.race([
      finished.then(() => false),
      sleep(shutdownTimeoutMs, true, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    await heartbeat?.stop();
    await mover?.stop();
    for (const slot of slots) slot.connection.disconnect();
    acknowledger.disconnect();
    const me = await registered;
    if (me === undefined) return;
    try {
      // The acknowledger too: an acknowledge sent before the stop may take a next job.
      await closedOnServer(control, [
        ...slots.map((slot) => slot.connectionName),
        acknowledgerName,
      ]);
      const handedBack = (await leave(control, me.id)).map((entry) => decodeJob(entry));
      for (const slot of slots) {
        const job = slot.running;
        if (!job || !handedBack.some((back) => back.id === job.id)) continue;
        events.emit("released", {
          ...{ jobId: job.id, name: job.name, workerId: slot.id, at: now() },
          reason: "still running",
        });
      }
    } catch (error) {
      complain(
        `could not hand back its jobs (${error}); the reaper will, once its heartbeat key expires`,
      );
    }
    if (!timedOut) await finished;
  }
  // #endregion stop

  return { id, stop: stopWorker };
}

/** What the acknowledge recorded, as the events say it. */
function asRecorded(
  job: JobPayload,
  disposition: Disposition,
  outcome: JobOutcome,
): RecordedOutcome {
  if (disposition.kind === "retry" && outcome.status === "failed") {
    return {
      status: "retrying",
      error: outcome.error,
      attempt: job.attempt,
      retryAt: disposition.at,
    };
  }
  return outcome;
}

/** How long stop waits for the server to let go of the closed connections; see {@link closedOnServer}. */
const CLOSE_WAIT_MS = 5_000;

/**
 * Waits until the server no longer lists any of `names` (`CLIENT LIST`, O(clients)): a closed
 * socket is noticed by the server at its next turn, a few milliseconds. Gives up after
 * {@link CLOSE_WAIT_MS} — a server that keeps a closed connection that long is in trouble.
 */
async function closedOnServer(control: Redis, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + CLOSE_WAIT_MS;
  for (;;) {
    const clients = String(await control.call("CLIENT", "LIST", "TYPE", "normal"));
    const open = clients
      .split("\n")
      .some((line) => names.some((name) => line.includes(` name=${name} `)));
    if (!open) return;
    if (Date.now() > deadline)
      throw new Error(`the server still lists a closed connection after ${CLOSE_WAIT_MS} ms`);
    await sleep(5);
  }
}

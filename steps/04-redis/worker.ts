/**
 * The worker: `concurrency` slots, each blocked in BRPOP on a connection of its own.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { type JobEvents, now } from "../../lib/events.ts";
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import { announceOutcome, performJob } from "../../lib/jobs/perform.ts";
import { type CommandCounter, connectRedis } from "../../lib/redis/connection.ts";
import type { Worker, WorkerOptions } from "../../lib/step.ts";
import { stopSignalKey } from "./keys.ts";
import { recordFailure, recordOutcome } from "./outcomes.ts";
import { DamagedQueueEntryError, decodeJob } from "./payload.ts";
import { takeNextJob } from "./take.ts";

/** How long a slot waits after one of its commands failed (not an outage: a WRONGTYPE, say). */
const ERROR_BACKOFF_MS = 1_000;

/** What a worker needs from the instance that starts it. */
export interface RedisWorkerContext {
  readonly url: string;
  readonly namespace: string;
  readonly counter: CommandCounter;
  /** The instance's own connection, free while the slots block: it sends the stop signals. */
  readonly control: Redis;
  readonly events: JobEvents;
}

/** One slot: a loop and the connection it blocks on. */
interface Slot {
  readonly id: string;
  readonly connection: Redis;
  readonly stopKey: string;
  /** `taking` while its BRPOP may be waiting on the server; `running` otherwise. */
  state: "taking" | "running";
  /** Aborted by `wake` when it gives up on a BRPOP that waits for Redis to come back. */
  readonly abandoned: AbortController;
}

/**
 * Starts `concurrency` slots in this process.
 *
 * A connection blocked in BRPOP can do nothing else until the reply comes, so each slot has
 * its own: concurrency 10 means 10 connections, parked on the server, costing nothing while
 * idle. (Sidekiq sizes its Redis pool at concurrency + a few for the same reason.) One shared
 * connection with one BRPOP feeding ten slots would also work, but then the BRPOP takes a job
 * before any slot is free to run it: one more job in memory, lost with the process.
 *
 * The slot records its job's outcome on the same connection: it is idle while the job runs.
 */
export function startRedisWorker(context: RedisWorkerContext, options: WorkerOptions = {}): Worker {
  const { events, control } = context;
  const id = options.name ?? `${hostname()}:${process.pid}`;
  const registry = options.registry ?? workshopJobs();
  const stopping = new AbortController();

  const slots: Slot[] = Array.from({ length: options.concurrency ?? 1 }, (_, index) => {
    const slotId = `${id}/${index + 1}`;
    return {
      id: slotId,
      state: "running",
      abandoned: new AbortController(),
      stopKey: stopSignalKey(`${slotId}/${randomUUID()}`),
      connection: connectRedis({
        url: context.url,
        namespace: context.namespace,
        name: `${context.namespace}/${slotId}`,
        counter: context.counter,
        // A worker has nothing better to do than wait for Redis to come back: its BRPOP
        // waits through an outage (and is sent again on the new connection) instead of
        // failing, so the loop below neither crashes nor spins while Redis is away.
        waitThroughOutages: true,
        onUnreachable: (error) =>
          events.emit("workerError", { workerId: slotId, error, at: now() }),
      }),
    };
  });

  async function runSlot(slot: Slot): Promise<void> {
    while (!stopping.signal.aborted) {
      try {
        slot.state = "taking";
        const taken = await takeNextJob(slot.connection, slot.stopKey);
        slot.state = "running";
        if (taken.kind === "stop") return;
        await runEntry(slot, taken.entry);
      } catch (error) {
        slot.state = "running";
        if (stopping.signal.aborted) return; // stop() closed the connection under it
        events.emit("workerError", { workerId: slot.id, error: String(error), at: now() });
        await sleep(ERROR_BACKOFF_MS, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
  }

  // #region run-entry
  async function runEntry(slot: Slot, entry: string): Promise<void> {
    let job: ReturnType<typeof decodeJob>;
    try {
      job = decodeJob(entry);
    } catch (error) {
      if (!(error instanceof DamagedQueueEntryError)) throw error;
      await recordFailure(slot.connection, {
        ...{ id: null, name: null, payload: entry, stack: null },
        error: `${error.name}: ${error.message}`,
        failedAt: Date.now(),
      });
      events.emit("workerError", { workerId: slot.id, error: error.message, at: now() });
      return;
    }
    await options.hooks?.afterPick?.(job.id, slot.id);
    // From here to the end of recordOutcome the job exists only in this process.
    const context = { registry, workerId: slot.id, events };
    const outcome = await performJob(job, context);
    await recordOutcome(slot.connection, job, outcome);
    announceOutcome(context, job, outcome);
  }
  // #endregion run-entry

  // A slot's loop ends when it returns, or when `wake` abandons it (see there).
  const loops = slots.map((slot) =>
    Promise.race([runSlot(slot), once(slot.abandoned.signal, "abort")]),
  );

  // #region stop
  /**
   * Wakes a slot that may be blocked in BRPOP, without losing a job.
   *
   * Each slot's BRPOP also watches a list of its own, and stopping pushes a token there: BRPOP
   * returns at once, with the token — or with a job, if one came first, which the slot then
   * runs before it sees that it is stopping. Nothing is lost, and an idle worker sends no
   * command at all. Two simpler ways were rejected:
   * - BRPOP with a timeout of 1 s, checking for stop in between: a command per second per
   *   idle slot, and every stop waits up to a second (Sidekiq does this, with 2 s).
   * - closing the blocked connection: if the server had just popped a job for it, the reply
   *   is in flight and closing throws the job away — the crash's loss, on every deploy.
   */
  async function wake(slot: Slot): Promise<void> {
    if (slot.state !== "taking") return; // running a job: it checks `stopping` when done
    if (slot.connection.status === "ready") {
      try {
        await control.lpush(slot.stopKey, "stop");
        return;
      } catch {
        // The instance's connection is down: fall through.
      }
    }
    // Redis is away, so no BRPOP of this slot is waiting on the server (ioredis holds it, to
    // send once the connection is back), and closing the connection loses nothing. Closing
    // does not end that wait, though: ioredis rejects the commands it holds when a socket
    // closes, and between two reconnect attempts there is no socket, so disconnect() only
    // cancels the next attempt and the BRPOP stays pending for good. The slot's loop is
    // abandoned instead: it has nothing in hand, and that BRPOP will never be sent. (Waiting
    // for Redis to come back, so the stop token could wake the slot, would make a worker
    // impossible to stop for as long as an outage lasts.)
    slot.connection.disconnect();
    slot.abandoned.abort();
  }
  // #endregion stop

  return {
    id,
    async stop() {
      stopping.abort();
      await Promise.all(slots.map(wake));
      await Promise.all(loops);
      await control.del(...slots.map((slot) => slot.stopKey)).catch(() => {});
      for (const slot of slots) slot.connection.disconnect();
    },
  };
}

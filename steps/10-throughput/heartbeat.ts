// Unchanged from step 08: steps/08-recovery/heartbeat.ts
/**
 * The heartbeat: a process says "still here" every interval, by updating its
 * row's `last_heartbeat_at`.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { InputError } from "../../lib/input-error.ts";
import type { Sql } from "../../lib/postgres/database.ts";

/**
 * How often a process beats, and how long it may stay silent before it counts
 * as dead. The threshold is what matters, and it is a trade-off:
 *
 * - **short** notices a dead process sooner — its jobs wait less for
 *   recovery (step 08) — but declares a process dead that is only slow: a
 *   long GC pause, a CPU-bound job starving the event loop, a database that
 *   was away for a minute. Its jobs are then recovered and run a second time
 *   while it is still running them;
 * - **long** never mistakes a slow process for a dead one, but a dead
 *   process's jobs wait that long.
 *
 * The threshold should cover several missed beats, so one slow UPDATE or one
 * database hiccup is not death. Solid Queue beats every 60 s and waits 5
 * minutes; Sidekiq beats every 10 s and lets a process's key expire after 60
 * s. We take Sidekiq's numbers: a beat costs one UPDATE of one row, and a
 * minute is a long time for a claimed job to sit still.
 */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
export const DEFAULT_ALIVE_THRESHOLD_MS = 60_000;

/** A threshold no longer than the interval would declare a healthy process dead between two beats. */
export class HeartbeatSettingsError extends InputError {
  override name = "HeartbeatSettingsError";
  constructor(intervalMs: number, thresholdMs: number) {
    super(
      `The alive threshold (${thresholdMs} ms) must be longer than the heartbeat interval (${intervalMs} ms) — several times longer, so a missed beat is not death. Raise --alive-threshold or lower --heartbeat-interval.`,
    );
  }
}

/** Checks the pair, and fills in the defaults. */
export function heartbeatSettings(
  intervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS,
  thresholdMs = DEFAULT_ALIVE_THRESHOLD_MS,
): { intervalMs: number; thresholdMs: number } {
  if (thresholdMs <= intervalMs) throw new HeartbeatSettingsError(intervalMs, thresholdMs);
  return { intervalMs, thresholdMs };
}

export interface HeartbeatOptions {
  readonly processId: string;
  readonly intervalMs: number;
  /** A beat failed (the database is away, say). The next one is tried on time anyway. */
  readonly onError: (error: unknown) => void;
  /** Called after every beat, failed or not: a supervised worker checks on its supervisor then. */
  readonly onBeat?: () => void;
  /**
   * The row is gone: this process was taken for dead and pruned (step 08),
   * its jobs sent back through the retry path. The heartbeat stops; the
   * process decides what to do (a worker registers again).
   */
  readonly onPruned?: () => void;
}

/**
 * Beats every `intervalMs` until stopped. A failed beat is reported and
 * retried at the next interval, never fatal: a process that stopped because
 * the database blinked would turn a hiccup into a real death. If the
 * database stays away longer than the threshold, the process is (correctly)
 * taken for dead and pruned: its next beat finds no row, and `onPruned`
 * says so.
 */
// #region heartbeat
export class Heartbeat {
  readonly #stopping = new AbortController();
  readonly #loop: Promise<void>;

  constructor(sql: Sql, options: HeartbeatOptions) {
    this.#loop = this.#run(sql, options);
  }

  async #run(sql: Sql, options: HeartbeatOptions): Promise<void> {
    const { signal } = this.#stopping;
    while (!signal.aborted) {
      await sleep(options.intervalMs, undefined, { signal }).catch(() => {});
      if (signal.aborted) return;
      try {
        const beaten = await sql.query(
          "UPDATE processes SET last_heartbeat_at = now() WHERE id = $1 RETURNING id",
          [options.processId],
        );
        if (beaten.length === 0) {
          options.onPruned?.();
          return;
        }
      } catch (error) {
        options.onError(error);
      }
      options.onBeat?.();
    }
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
  }
}
// #endregion heartbeat

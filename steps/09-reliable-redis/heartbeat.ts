/**
 * The heartbeat loop: a process sets its heartbeat key again every interval (see
 * `processes.ts` for what one beat does).
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { InputError } from "../../lib/input-error.ts";
import { beat, type RegisteredProcess } from "./processes.ts";

/**
 * Sidekiq's numbers, as step 06 took them: a beat every 10 s, dead after 60 s without one.
 * The threshold is the trade-off step 06 describes: short notices a dead process sooner (its
 * jobs wait less for the reaper), but takes a process that is only slow for dead, and its
 * jobs run a second time while it still runs them.
 */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
export const DEFAULT_ALIVE_THRESHOLD_MS = 60_000;

/** A threshold no longer than the interval would let a healthy process's key expire between two beats. */
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
  readonly intervalMs: number;
  /** A beat failed (Redis is away, say); the next one is tried on time anyway. */
  readonly onError: (error: unknown) => void;
  /** The process had been reaped, and is registered again (see `beat`). */
  readonly onRegisteredAgain: () => void;
  /** After every beat, failed or not: the reaper runs then. */
  readonly onBeat?: () => Promise<void>;
}

/** Beats every `intervalMs` until stopped; a failed beat is reported, never fatal. */
export class Heartbeat {
  readonly #stopping = new AbortController();
  readonly #loop: Promise<void>;

  constructor(redis: Redis, process_: RegisteredProcess, options: HeartbeatOptions) {
    this.#loop = this.#run(redis, process_, options);
  }

  async #run(redis: Redis, process_: RegisteredProcess, options: HeartbeatOptions): Promise<void> {
    const { signal } = this.#stopping;
    while (!signal.aborted) {
      await sleep(options.intervalMs, undefined, { signal }).catch(() => {});
      if (signal.aborted) return;
      try {
        if (await beat(redis, process_)) options.onRegisteredAgain();
      } catch (error) {
        options.onError(error);
      }
      await options.onBeat?.();
    }
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
  }
}

/**
 * The scheduler's loop, in the supervisor: wake at the next tick, by the
 * database's clock, tick, sleep again.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { TickingScheduler } from "./scheduler.ts";

/**
 * The longest the loop sleeps, even when the next tick is a month away:
 * after a while it reads the clock again, so a clock that was set (or a
 * sleeping laptop) costs at most this much lateness. Also how long it waits
 * to try again after a failed tick (the database away, say).
 */
export const MAX_SCHEDULER_SLEEP_MS = 60_000;
export const SCHEDULER_RETRY_MS = 1_000;

export interface SchedulerLoopOptions {
  /**
   * What time it is. The supervisor passes the database's clock (see
   * `databaseNow`); a test passes one of its own.
   */
  readonly clock: () => Promise<Date>;
  /** A tick enqueued jobs. */
  readonly onEnqueued?: (jobIds: readonly string[]) => void;
  /** A tick failed; it is tried again shortly. */
  readonly onError: (error: unknown) => void;
}

/**
 * Runs `scheduler` until `signal` aborts. It sleeps until the next tick by
 * the clock, then ticks with the time the clock says — which may be a
 * little after the tick (a timer fires late, a local clock runs slow
 * against the database's), or before it (one that runs fast): either way
 * the tick it enqueues is the tick the expression names (see
 * `CheckedSchedule.dueTicks`), and a wake that comes early finds nothing
 * due and sleeps the rest.
 */
// #region loop
export async function runSchedulerLoop(
  scheduler: TickingScheduler,
  options: SchedulerLoopOptions,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    let waitMs = SCHEDULER_RETRY_MS;
    try {
      const now = await options.clock();
      const enqueued = await scheduler.tick(now);
      if (enqueued.length > 0) options.onEnqueued?.(enqueued);
      const next = scheduler.nextTick(now);
      waitMs = next === null ? MAX_SCHEDULER_SLEEP_MS : next.getTime() - now.getTime();
    } catch (error) {
      options.onError(error);
    }
    const boundedMs = Math.min(MAX_SCHEDULER_SLEEP_MS, Math.max(0, waitMs));
    await sleep(boundedMs, undefined, { signal }).catch(() => {});
  }
}
// #endregion loop

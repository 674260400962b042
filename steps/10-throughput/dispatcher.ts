// Unchanged from step 08: steps/08-recovery/dispatcher.ts
/**
 * The dispatcher: a loop that moves scheduled jobs to ready when they are
 * due — jobs enqueued for later, and failed jobs waiting for their retry.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Sql } from "../../lib/postgres/database.ts";
import { dispatchDueJobs } from "./scheduled-executions.ts";

/**
 * How often the dispatcher looks, at most, and how many jobs it moves per
 * statement — Solid Queue's dispatcher defaults (1 s, 500). A scheduled job
 * starts at most about this late: the dispatcher sleeps until the next job
 * it knows of is due, but a job scheduled during that sleep for earlier is
 * only seen at the next look. (A real system could NOTIFY the dispatcher on
 * enqueue, as enqueue rings the workers.)
 */
export const DEFAULT_DISPATCH_INTERVAL_MS = 1_000;
export const DEFAULT_DISPATCH_BATCH_SIZE = 500;

export interface DispatcherOptions {
  readonly intervalMs?: number;
  readonly batchSize?: number;
  /** A dispatch failed (the database is away, say); it is tried again after the interval. */
  readonly onError: (error: unknown) => void;
}

/**
 * Where it runs: in the supervisor (one per supervisor, next to its
 * workers, as Solid Queue runs its dispatchers), and in a worker that runs
 * without one — otherwise a plain `npm run step 08 -- worker` would never
 * run a retry. Several dispatchers are safe (see `dispatchDueJobs`); they
 * only share the work.
 */
// #region dispatcher
export class Dispatcher {
  readonly #stopping = new AbortController();
  readonly #loop: Promise<void>;

  constructor(sql: Sql, options: DispatcherOptions) {
    this.#loop = this.#run(sql, options);
  }

  async #run(sql: Sql, options: DispatcherOptions): Promise<void> {
    const { signal } = this.#stopping;
    const intervalMs = options.intervalMs ?? DEFAULT_DISPATCH_INTERVAL_MS;
    const batchSize = options.batchSize ?? DEFAULT_DISPATCH_BATCH_SIZE;
    while (!signal.aborted) {
      let waitMs = intervalMs;
      try {
        const { moved, nextDueInMs } = await dispatchDueJobs(sql, batchSize);
        if (moved === batchSize)
          waitMs = 0; // a full batch: more may be due
        // Not less than 10 ms: a due row that another dispatcher holds
        // locked right now shows up as "due now" until it commits.
        else if (nextDueInMs !== null) waitMs = Math.min(intervalMs, Math.max(10, nextDueInMs));
      } catch (error) {
        options.onError(error);
      }
      if (waitMs > 0) await sleep(waitMs, undefined, { signal }).catch(() => {});
    }
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
  }
}
// #endregion dispatcher

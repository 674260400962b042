/**
 * What happens to a claimed job, from its start to its recorded outcome: it
 * runs outside any transaction, with a timeout; its outcome decides where it
 * goes next — finished, retried after a backoff, or the dead queue — and
 * that is recorded in one short transaction, tried again until the database
 * takes it; then the outcome is announced.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type JobEvents, now } from "../../lib/events.ts";
import {
  announceOutcome,
  type JobOutcome,
  type PerformContext,
  performJob,
  type RecordedOutcome,
  type StoredJob,
} from "../../lib/jobs/perform.ts";
import type { JobRegistry } from "../../lib/jobs/registry.ts";
import type { Database } from "../../lib/postgres/database.ts";
import type { RetryBackoff, WorkerHooks } from "../../lib/step.ts";
import { maxAttemptsOf, retryDelayMs } from "./backoff.ts";
import { type Disposition, dispose, finishClaimedJob } from "./claims.ts";

/**
 * The waits between attempts to record a job's outcome while the database
 * is away: the first after 100 ms (a blip), then twice as long each time,
 * up to 5 s. There is no limit on attempts — see {@link JobRunner}. An
 * outage of an hour costs one attempt per waiting outcome every 5 s, and
 * the outcome lands at most 5 s after the server is back.
 */
const RECORD_RETRY_FIRST_MS = 100;
const RECORD_RETRY_MAX_MS = 5_000;

export interface JobRunnerOptions {
  readonly database: Database;
  readonly registry: JobRegistry;
  readonly events: JobEvents;
  /** The worker's name; a slot's label is `name/slot`. */
  readonly name: string;
  readonly backoff: RetryBackoff;
  /** How long one attempt may run, for jobs without a `timeoutMs` of their own. */
  readonly jobTimeoutMs?: number;
  readonly hooks?: WorkerHooks;
}

/**
 * Runs claimed jobs, one per call of {@link JobRunner.run}.
 *
 * The job keeps its slot until its outcome is recorded, however long that
 * takes. A job whose outcome is not written is not done: its claim is still
 * taken, and a stop waits for it as for a running job. Freeing the slot
 * would let the worker claim more work while it cannot record the work it
 * did (and while the database is away it could not claim anyway). Giving up
 * after a few attempts would be worse: the claim would stay behind while the
 * worker lives on, and nothing would ever finish the job or run it again.
 */
export class JobRunner {
  readonly #options: JobRunnerOptions;

  constructor(options: JobRunnerOptions) {
    this.#options = options;
  }

  /**
   * Runs `job` in slot `slot` with no transaction open and no connection
   * held: between the claim's commit and the finish, this worker holds
   * nothing in the database but the claimed row. An attempt that outlives
   * its timeout is failed, and its slot is free again — see `performJob`
   * for what that cannot stop.
   */
  // #region run
  async run(job: StoredJob, slot: number): Promise<void> {
    const { registry, events, name, jobTimeoutMs, hooks } = this.#options;
    const context: PerformContext = {
      registry,
      workerId: `${name}/${slot}`,
      events,
      timeoutMs: jobTimeoutMs,
    };
    await hooks?.afterPick?.(job.id, context.workerId);
    const outcome = await performJob(job, context);
    announceOutcome(context, job, await this.#record(job, context, outcome));
  }
  // #endregion run

  /**
   * Where the job goes next: finished; failed and retried after a backoff
   * while it has attempts left (its `maxAttempts`, or the default); or, after
   * its last attempt — or at once, for a failure that would fail the same way
   * again — the dead queue.
   */
  #dispositionOf(job: StoredJob, outcome: JobOutcome): Disposition {
    const { registry, backoff } = this.#options;
    if (outcome.status === "finished") return dispose(outcome, undefined);
    const maxAttempts = maxAttemptsOf(registry, job.name);
    return dispose(
      outcome,
      retryDelayMs(job.attempt ?? 1, maxAttempts, outcome.retryable, backoff),
    );
  }

  /** Records the outcome, trying again until the database takes it; says what it recorded. */
  // #region record
  async #record(
    job: StoredJob,
    context: PerformContext,
    outcome: JobOutcome,
  ): Promise<RecordedOutcome> {
    const disposition = this.#dispositionOf(job, outcome);
    for (let waitMs = RECORD_RETRY_FIRST_MS; ; waitMs = Math.min(waitMs * 2, RECORD_RETRY_MAX_MS)) {
      try {
        const retryAt = await finishClaimedJob(this.#options.database, job, disposition);
        if (outcome.status === "finished" || retryAt === undefined) return outcome;
        return { status: "retrying", error: outcome.error, attempt: job.attempt ?? 1, retryAt };
      } catch (error) {
        context.events.emit("workerError", {
          workerId: context.workerId,
          error: `job ${job.id} ran; recording its outcome failed: ${error}`,
          at: now(),
        });
        await sleep(waitMs);
      }
    }
  }
  // #endregion record
}

// Unchanged from step 08: steps/08-recovery/job-runner.ts
/**
 * What happens to a claimed job, from its start to its recorded outcome: it
 * runs outside any transaction, with a timeout; its outcome decides where it
 * goes next — finished, retried after a backoff, or the dead queue — and
 * that is recorded in one short transaction if the claim is still this
 * process's (step 08), tried again until the database takes it; then the
 * outcome is announced.
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

/** Where a held job is: running, or ran and waiting for its outcome to be recorded. */
export type HeldJobState = "running" | "recording";

/**
 * Runs claimed jobs, one per call of {@link JobRunner.run}, and knows which
 * it holds.
 *
 * The job keeps its slot until its outcome is recorded, however long that
 * takes. A job whose outcome is not written is not done: its claim is still
 * taken, and a stop waits for it as for a running job. Freeing the slot
 * would let the worker claim more work while it cannot record the work it
 * did (and while the database is away it could not claim anyway). Giving up
 * after a few attempts would be worse: the claim would stay behind while the
 * worker lives on and heartbeats: recovery never touches the claims of a
 * live process. The one give-up is a stop's, at its shutdown timeout
 * ({@link JobRunner.giveUp}; shutdown.ts hands those jobs back).
 */
export class JobRunner {
  readonly #options: JobRunnerOptions;
  readonly #held = new Map<string, HeldJobState>();
  readonly #givingUp = new AbortController();

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
  async run(job: StoredJob, processId: string, slot: number): Promise<void> {
    const { registry, events, name, jobTimeoutMs, hooks } = this.#options;
    const context: PerformContext = {
      registry,
      workerId: `${name}/${slot}`,
      events,
      timeoutMs: jobTimeoutMs,
    };
    this.#held.set(job.id, "running");
    try {
      await hooks?.afterPick?.(job.id, context.workerId);
      const outcome = await performJob(job, context);
      this.#held.set(job.id, "recording");
      announceOutcome(context, job, await this.#record(job, processId, context, outcome));
    } catch (error) {
      // Expected here: the record given up at the shutdown timeout (the stop
      // said so, and gave the job back). Anything else — a hook that threw —
      // is reported, not swallowed.
      if (!this.#givingUp.signal.aborted) {
        events.emit("workerError", { workerId: context.workerId, error: String(error), at: now() });
      }
    } finally {
      this.#held.delete(job.id);
    }
  }
  // #endregion run

  /** The jobs this worker holds a claim on, and where each is. */
  held(): ReadonlyMap<string, HeldJobState> {
    return new Map(this.#held);
  }

  /**
   * Stops trying to record outcomes: each waiting one gives up after its
   * current attempt, and a job that ends later is tried once. For a stop,
   * whose shutdown timeout has passed.
   */
  giveUp(): void {
    this.#givingUp.abort();
  }

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

  /**
   * Records the outcome if the claim is still `processId`'s, trying again
   * until the database takes it (or the worker gives up); says what it
   * recorded — nothing, `superseded`, when the claim had been taken away.
   */
  // #region record
  async #record(
    job: StoredJob,
    processId: string,
    context: PerformContext,
    outcome: JobOutcome,
  ): Promise<RecordedOutcome> {
    const disposition = this.#dispositionOf(job, outcome);
    const givingUp = this.#givingUp.signal;
    for (let waitMs = RECORD_RETRY_FIRST_MS; ; waitMs = Math.min(waitMs * 2, RECORD_RETRY_MAX_MS)) {
      try {
        const finish = await finishClaimedJob(this.#options.database, job, processId, disposition);
        if (!finish.stillOurs) return { status: "superseded", outcome: outcome.status };
        if (outcome.status === "finished" || finish.retryAt === undefined) return outcome;
        const { retryAt } = finish;
        return { status: "retrying", error: outcome.error, attempt: job.attempt ?? 1, retryAt };
      } catch (error) {
        if (givingUp.aborted) throw error;
        context.events.emit("workerError", {
          workerId: context.workerId,
          error: `job ${job.id} ran; recording its outcome failed: ${error}`,
          at: now(),
        });
        await sleep(waitMs, undefined, { signal: givingUp }).catch(() => {});
        if (givingUp.aborted) throw error;
      }
    }
  }
  // #endregion record
}

// Unchanged from step 05: steps/05-claims/job-runner.ts
/**
 * What happens to a claimed job, from its start to its recorded outcome: it
 * runs outside any transaction; its outcome — finished, or failed — is
 * recorded in one short transaction, tried again until the database takes
 * it; then it is announced.
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
  type StoredJob,
} from "../../lib/jobs/perform.ts";
import type { JobRegistry } from "../../lib/jobs/registry.ts";
import type { Database } from "../../lib/postgres/database.ts";
import type { WorkerHooks } from "../../lib/step.ts";
import { finishClaimedJob } from "./claims.ts";

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
   * nothing in the database but the claimed row.
   */
  // #region run
  async run(job: StoredJob, slot: number): Promise<void> {
    const { registry, events, name, hooks } = this.#options;
    const context: PerformContext = { registry, workerId: `${name}/${slot}`, events };
    await hooks?.afterPick?.(job.id, context.workerId);
    const outcome = await performJob(job, context);
    await this.#record(job, context, outcome);
    announceOutcome(context, job, outcome);
  }
  // #endregion run

  /** Records the outcome, trying again until the database takes it. */
  // #region record
  async #record(job: StoredJob, context: PerformContext, outcome: JobOutcome): Promise<void> {
    for (let waitMs = RECORD_RETRY_FIRST_MS; ; waitMs = Math.min(waitMs * 2, RECORD_RETRY_MAX_MS)) {
      try {
        await finishClaimedJob(this.#options.database, job, outcome);
        return;
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

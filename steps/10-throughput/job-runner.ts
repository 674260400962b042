/**
 * What happens to a claimed job, from its start to its recorded outcome: it
 * runs outside any transaction, with a timeout; its outcome decides where it
 * goes next — finished, retried after a backoff, or the dead queue — and
 * that is recorded, if the claim is still this process's (step 08), with
 * the outcomes of the worker's other jobs (step 10: finisher.ts); then the
 * outcome is announced.
 *
 * @module
 */
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
import type { RetryBackoff, WorkerHooks } from "../../lib/step.ts";
import { maxAttemptsOf, retryDelayMs } from "./backoff.ts";
import { type Disposition, dispose } from "./claims.ts";
import type { Finisher } from "./finisher.ts";

export interface JobRunnerOptions {
  /** Writes the outcomes, in batches (step 10). */
  readonly finisher: Finisher;
  readonly registry: JobRegistry;
  readonly events: JobEvents;
  /** The worker's name; a slot's label is `name/slot`. */
  readonly name: string;
  readonly backoff: RetryBackoff;
  /** How long one attempt may run, for jobs without a `timeoutMs` of their own. */
  readonly jobTimeoutMs?: number;
  readonly hooks?: WorkerHooks;
  /** A held job changed state: it ran (its slot frees at the next write), or it is no longer held. */
  readonly onChange: () => void;
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
 *
 * Step 10 keeps that rule, though outcomes are now written in batches:
 * freeing the slot when the job has run would let the worker start more
 * jobs whose outcomes are not durable yet, and a crash would run all of
 * them again. Held until the write, a slot bounds what a crash re-runs to
 * one job per slot, as in step 08; and the write costs one commit for every
 * slot's job, not one each.
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
      this.#options.onChange();
      announceOutcome(context, job, await this.#record(job, processId, outcome));
    } catch (error) {
      // Expected here: the record given up at the shutdown timeout (the stop
      // said so, and gave the job back). Anything else — a hook that threw —
      // is reported, not swallowed.
      if (!this.#givingUp.signal.aborted) {
        events.emit("workerError", { workerId: context.workerId, error: String(error), at: now() });
      }
    } finally {
      this.#held.delete(job.id);
      this.#options.onChange();
    }
  }
  // #endregion run

  /** The jobs this worker holds a claim on, and where each is. */
  held(): ReadonlyMap<string, HeldJobState> {
    return new Map(this.#held);
  }

  /** How many of its jobs are in `state` (the claim loop and the finisher ask). */
  count(state: HeldJobState): number {
    let count = 0;
    for (const held of this.#held.values()) if (held === state) count++;
    return count;
  }

  /**
   * Stops trying to record outcomes: each waiting one gives up after its
   * current attempt, and a job that ends later is tried once. For a stop,
   * whose shutdown timeout has passed.
   */
  giveUp(): void {
    this.#givingUp.abort();
    this.#options.finisher.giveUp();
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
   * Records the outcome with the next batch if the claim is still
   * `processId`'s — the finisher tries until the database takes it, or the
   * worker gives up — and says what it recorded: nothing, `superseded`,
   * when the claim had been taken away.
   */
  // #region record
  async #record(job: StoredJob, processId: string, outcome: JobOutcome): Promise<RecordedOutcome> {
    const disposition = this.#dispositionOf(job, outcome);
    const finish = await this.#options.finisher.record({ jobId: job.id, processId, disposition });
    if (!finish.stillOurs) return { status: "superseded", outcome: outcome.status };
    if (outcome.status === "finished" || finish.retryAt === undefined) return outcome;
    const { retryAt } = finish;
    return { status: "retrying", error: outcome.error, attempt: job.attempt ?? 1, retryAt };
  }
  // #endregion record
}

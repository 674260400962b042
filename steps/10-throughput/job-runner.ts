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
  /** A job ran — or a hook threw before it could — and its slot is free; its outcome waits to be written. */
  readonly onRan: () => void;
  /** A job is no longer held: its outcome was written, or given up on. */
  readonly onReleased: () => void;
}

/** Where a held job is: running, or ran and waiting for its outcome to be recorded. */
export type HeldJobState = "running" | "recording";

/**
 * Runs claimed jobs, one per call of {@link JobRunner.run}, and knows which
 * it holds: those running, and those that ran and whose outcome is not
 * written yet.
 *
 * Step 10 frees a job's slot as soon as the job has run, where step 08 held
 * it until the outcome was recorded. Held, each slot waited for a commit
 * between one job and the next, and a worker ran at most its slots' count
 * of jobs per commit, however many outcomes one write took: 10 slots and
 * a 1 ms commit, 10,000 jobs a second at the very best. Freed, the slots run
 * the next jobs while the finisher writes the last ones' outcomes.
 *
 * What that costs: a worker now holds jobs that ran and are not recorded,
 * and a crash runs each of them again. The worker bounds them — it starts
 * no job while two batches of outcomes wait ({@link JobRunner.mayStart}),
 * so a kill -9 re-runs at most that many jobs, besides its running and
 * buffered ones (the step's benchmark measures it). A job is still never
 * *announced* before its outcome committed: nothing a caller sees can be
 * lost.
 *
 * The rule of step 08 that stays: a job whose outcome is not written is not
 * done. Its claim is still taken, and a stop waits for it as for a running
 * job ({@link JobRunner.recorded}). Giving up after a few attempts would
 * leave the claim behind while the worker lives on and heartbeats: recovery
 * never touches the claims of a live process. The one give-up is a stop's,
 * at its shutdown timeout ({@link JobRunner.giveUp}; shutdown.ts hands
 * those jobs back).
 */
export class JobRunner {
  readonly #options: JobRunnerOptions;
  readonly #running = new Set<string>();
  readonly #recording = new Map<string, Promise<void>>();
  readonly #givingUp = new AbortController();

  constructor(options: JobRunnerOptions) {
    this.#options = options;
  }

  /**
   * Runs `job` in slot `slot` with no transaction open and no connection
   * held, and resolves once it has run — its slot frees then — while its
   * outcome goes to the finisher, and is announced when written. Between
   * the claim's commit and the finish, this worker holds nothing in the
   * database but the claimed row. An attempt that outlives its timeout is
   * failed, and its slot is free again — see `performJob` for what that
   * cannot stop.
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
    this.#running.add(job.id);
    let outcome: JobOutcome;
    try {
      await hooks?.afterPick?.(job.id, context.workerId);
      outcome = await performJob(job, context);
    } catch (error) {
      // A hook that threw: reported, not swallowed.
      this.#report(context, error);
      this.#options.onRan();
      return;
    } finally {
      this.#running.delete(job.id);
    }
    const recording = this.#record(job, processId, outcome)
      .then((recorded) => announceOutcome(context, job, recorded))
      .catch((error: unknown) => this.#report(context, error))
      .finally(() => {
        this.#recording.delete(job.id);
        this.#options.onReleased();
      });
    this.#recording.set(job.id, recording);
    this.#options.onRan();
  }
  // #endregion run

  /** The jobs this worker holds a claim on, and where each is. */
  held(): ReadonlyMap<string, HeldJobState> {
    const held = new Map<string, HeldJobState>();
    for (const jobId of this.#running) held.set(jobId, "running");
    for (const jobId of this.#recording.keys()) held.set(jobId, "recording");
    return held;
  }

  /** How many of its jobs are running now (the claim loop and the finisher ask). */
  get running(): number {
    return this.#running.size;
  }

  /**
   * Whether another job may start: not while two batches of outcomes wait
   * to be written — one being written, one filling. This is what bounds the
   * jobs a crash runs again; rejected: no bound, which lets a worker whose
   * writes fall behind (a slow disk, a database away) run ever more jobs
   * that a crash would run again.
   */
  mayStart(batchSize: number): boolean {
    return this.#recording.size < 2 * batchSize;
  }

  /** Resolves when every outcome handed over so far is written, or given up on. */
  async recorded(): Promise<void> {
    while (this.#recording.size > 0) await Promise.all([...this.#recording.values()]);
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
   * Expected here: the record given up at the shutdown timeout (the stop
   * said so, and gave the job back). Anything else is reported.
   */
  #report(context: PerformContext, error: unknown): void {
    if (this.#givingUp.signal.aborted) return;
    const { events } = this.#options;
    events.emit("workerError", { workerId: context.workerId, error: String(error), at: now() });
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

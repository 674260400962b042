/**
 * Finishing in batches (step 10): the outcomes of a worker's jobs are
 * collected for a moment and written together, one statement and one commit
 * for many jobs — and no job is announced done before its write committed.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Database } from "../../lib/postgres/database.ts";
import { type ClaimOutcome, finishClaimedJobs, type RecordedClaim } from "./claims.ts";

/**
 * The waits between attempts to write a batch while the database is away:
 * the first after 100 ms (a blip), then twice as long each time, up to 5 s.
 * There is no limit on attempts — a claim left behind by a worker that goes
 * on living would never be recovered (see job-runner.ts). The outcomes land
 * at most 5 s after the server is back.
 */
const WRITE_RETRY_FIRST_MS = 100;
const WRITE_RETRY_MAX_MS = 5_000;

export interface FinisherOptions {
  /** The most outcomes written in one statement. */
  readonly batchSize: number;
  /**
   * How long the first outcome of a batch waits for others before the batch
   * is written; 0 writes at the end of the current turn of the event loop.
   */
  readonly flushDelayMs: number;
  /** How many of the worker's jobs are still running: outcomes that may yet join a batch. */
  readonly running: () => number;
  /** A write failed (the database is away, say); it is tried again. */
  readonly onError: (error: unknown, jobIds: readonly string[]) => void;
}

interface Waiting {
  readonly outcome: ClaimOutcome;
  readonly resolve: (recorded: RecordedClaim) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects outcomes and writes them in batches: a batch goes when it has
 * `batchSize` outcomes, or when none of the worker's jobs is still running
 * (no other outcome is on its way), or `flushDelayMs` after its first
 * outcome, whichever comes first — and never while the previous batch is
 * still being written.
 * That last rule batches by itself: the outcomes of jobs that ended during
 * a write (a commit takes a fraction of a millisecond to a few, and a busy
 * worker ends dozens of no-op jobs in it) go together in the next one, so
 * even with a delay of 0 a busy worker writes many outcomes per commit, and
 * an idle one writes its one outcome at once. One write at a time also
 * means one connection for finishing, whatever the concurrency, where step
 * 08 used one per slot.
 *
 * {@link Finisher.record} resolves when the outcome has **committed**, not
 * when it was handed over: a job is announced finished only once that is
 * true, so nothing a caller sees can be lost by a crash. What a crash loses
 * is the outcomes not yet written: their jobs are still claimed, and
 * recovery runs them again — at most two batches' worth, since the worker
 * starts no job beyond that (job-runner.ts).
 */
// #region finisher
export class Finisher {
  readonly #database: Database;
  readonly #options: FinisherOptions;
  readonly #waiting: Waiting[] = [];
  #writing: Promise<void> | undefined;
  #timer: { readonly cancel: () => void } | undefined;
  readonly #givingUp = new AbortController();

  constructor(database: Database, options: FinisherOptions) {
    this.#database = database;
    this.#options = options;
  }

  /** Writes `outcome` with the next batch; resolves once it has committed. */
  record(outcome: ClaimOutcome): Promise<RecordedClaim> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ outcome, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Stops trying again: a batch whose write fails from now on is failed (its
   * jobs are still claimed; the stop releases them). For a stop whose
   * shutdown timeout has passed.
   */
  giveUp(): void {
    this.#givingUp.abort();
  }

  #schedule(): void {
    if (this.#writing !== undefined) return; // the write under way schedules the next
    if (this.#waiting.length >= this.#options.batchSize || this.#options.running() === 0) {
      this.#writeNext();
    } else {
      this.#timer ??= this.#after(this.#options.flushDelayMs, () => this.#writeNext());
    }
  }

  #writeNext(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    const batch = this.#waiting.splice(0, this.#options.batchSize);
    if (batch.length === 0) return;
    this.#writing = this.#write(batch).finally(() => {
      this.#writing = undefined;
      if (this.#waiting.length > 0) this.#schedule();
    });
  }

  /** Writes one batch, trying again until it commits or the finisher gives up. */
  async #write(batch: readonly Waiting[]): Promise<void> {
    const outcomes = batch.map((waiting) => waiting.outcome);
    for (let waitMs = WRITE_RETRY_FIRST_MS; ; waitMs = Math.min(waitMs * 2, WRITE_RETRY_MAX_MS)) {
      try {
        const recorded = await finishClaimedJobs(this.#database, outcomes);
        for (const [index, waiting] of batch.entries()) {
          waiting.resolve(recorded[index] ?? { stillOurs: false });
        }
        return;
      } catch (error) {
        if (!this.#givingUp.signal.aborted) {
          this.#options.onError(
            error,
            outcomes.map((outcome) => outcome.jobId),
          );
          await sleep(waitMs, undefined, { signal: this.#givingUp.signal }).catch(() => {});
        }
        if (this.#givingUp.signal.aborted) {
          for (const waiting of batch) waiting.reject(error);
          return;
        }
      }
    }
  }

  /** `work` after `delayMs`; 0 means once the current turn of the event loop is over. */
  #after(delayMs: number, work: () => void): { readonly cancel: () => void } {
    if (delayMs === 0) {
      const immediate = setImmediate(work);
      return { cancel: () => clearImmediate(immediate) };
    }
    const timer = setTimeout(work, delayMs);
    return { cancel: () => clearTimeout(timer) };
  }
}
// #endregion finisher

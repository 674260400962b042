/**
 * Recovery: finding dead processes, and sending the jobs they held back
 * through the retry path.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Database } from "../../lib/postgres/database.ts";
import type { RetryBackoff } from "../../lib/step.ts";
import { retryDelayMs } from "./backoff.ts";
import { type Disposition, finishClaimedJobs } from "./claims.ts";

/** How the recovered jobs are retried: the same rules as a job that threw. */
export interface RecoveryPolicy {
  maxAttemptsOf(jobName: string): number;
  readonly backoff: RetryBackoff;
}

/** Who prunes, and what it knows beyond the heartbeats. */
export interface PruneRequest {
  readonly policy: RecoveryPolicy;
  /** The pruner's own process row, never pruned by itself: a pruner that is running is alive. */
  readonly self?: string;
  /**
   * Worker processes the supervisor `supervisorId` saw exit, by pid: dead
   * for certain, now, whatever their heartbeat says.
   */
  readonly exited?: { readonly supervisorId: string; readonly pids: readonly number[] };
}

/** What one pass recovered: a dead process, and what became of each job it held. */
export interface RecoveredProcess {
  readonly processId: string;
  readonly name: string;
  readonly pid: number;
  readonly jobs: readonly RecoveredJob[];
}

/** One job a dead process held, and where it went: back to be retried, or to the dead queue. */
export interface RecoveredJob {
  readonly jobId: string;
  readonly name: string;
  readonly disposition: "retry" | "dead";
}

/**
 * Prunes dead processes in one transaction. Dead means: a heartbeat older
 * than the process's alive threshold, or an exit its supervisor saw.
 *
 * 1. It locks their rows, `FOR UPDATE SKIP LOCKED`: two pruners (two
 *    supervisors) split the dead between them instead of waiting on each
 *    other. (A job is never recovered twice either way: moving a claim
 *    starts by deleting it, and only one DELETE finds the row.)
 * 2. It sends every job they had claimed back through the retry path, as if
 *    the attempt had thrown "the process died". The attempt counts (it was
 *    counted at claim time), so a job that kills its worker every time runs
 *    out of attempts and ends in the dead queue instead of crashing workers
 *    for ever.
 * 3. It deletes the process rows.
 *
 * Solid Queue marks such jobs failed with its `ProcessPrunedError`, and
 * leaves retrying them to the application (`retry_on`); here the retry is
 * built in, and the dead queue is where retries end.
 *
 * A process taken for dead that was only slow (a long GC pause, a database
 * that was away) runs on: its jobs now also run elsewhere — at-least-once,
 * not exactly-once — and its late finishes change nothing (see
 * `finishClaimedJobs`).
 *
 * Why not also ask the operating system whether a pid still exists
 * (`kill(pid, 0)`)? On one machine that is instant and certain, but a
 * container with the host's hostname has pids of its own, and its live
 * workers would look dead. Only the supervisor that started a process
 * knows for certain that it exited.
 */
// #region prune
export async function pruneDeadProcesses(
  database: Database,
  request: PruneRequest,
): Promise<RecoveredProcess[]> {
  return database.transaction(async (tx) => {
    const dead = await tx.query<{ id: string; name: string; pid: number; hostname: string }>(
      `SELECT id, name, pid, hostname FROM processes
       WHERE (last_heartbeat_at <= now() - alive_threshold
              OR (supervisor_id = $2 AND pid = ANY($3::int[])))
         AND id IS DISTINCT FROM $1
       ORDER BY id
       FOR UPDATE SKIP LOCKED`,
      [request.self ?? null, request.exited?.supervisorId ?? null, request.exited?.pids ?? []],
    );
    if (dead.length === 0) return [];
    const claims = await tx.query<{
      job_id: string;
      process_id: string;
      name: string;
      attempts: number;
    }>(
      `SELECT claimed.job_id, claimed.process_id, jobs.name, jobs.attempts
       FROM claimed_executions AS claimed JOIN jobs ON jobs.id = claimed.job_id
       WHERE claimed.process_id = ANY($1::bigint[])
       ORDER BY claimed.job_id`,
      [dead.map((row) => row.id)],
    );
    // Step 10: every job of every dead process in one statement — a worker
    // that died with a buffer of 100 claimed jobs costs one, not 100.
    const outcomes = claims.map((claim) => {
      const owner = dead.find((row) => row.id === claim.process_id);
      const error = `ProcessDiedError: process ${claim.process_id} (${owner?.name}, pid ${owner?.pid} on ${owner?.hostname}) died while running this job`;
      // The attempt that died is counted by the write below (step 10
      // counts attempts when they end): this is its number.
      const delayMs = retryDelayMs(
        claim.attempts + 1,
        request.policy.maxAttemptsOf(claim.name),
        true,
        request.policy.backoff,
      );
      const disposition: Disposition & { kind: "retry" | "dead" } =
        delayMs === undefined
          ? { kind: "dead", error, stack: null }
          : { kind: "retry", delayMs, error };
      return { jobId: claim.job_id, processId: claim.process_id, name: claim.name, disposition };
    });
    // A claim that is not ours any more: the process finished the job after all, just now.
    const recorded = await finishClaimedJobs(tx, outcomes);
    const stillOurs = outcomes.filter((_, index) => recorded[index]?.stillOurs);
    const recovered: RecoveredProcess[] = dead.map((owner) => ({
      processId: owner.id,
      name: owner.name,
      pid: owner.pid,
      jobs: stillOurs
        .filter((outcome) => outcome.processId === owner.id)
        .map(({ jobId, name, disposition }) => ({ jobId, name, disposition: disposition.kind })),
    }));
    await tx.query("DELETE FROM processes WHERE id = ANY($1::bigint[])", [
      dead.map((row) => row.id),
    ]);
    return recovered;
  });
}
// #endregion prune

/** "job 12 (Sleep) → retry, job 13 (Noop) → dead queue", or "it held no jobs". */
export function describeRecoveredJobs(jobs: readonly RecoveredJob[]): string {
  if (jobs.length === 0) return "it held no jobs";
  return jobs
    .map(
      (job) =>
        `job ${job.jobId} (${job.name}) → ${job.disposition === "retry" ? "retry" : "dead queue"}`,
    )
    .join(", ");
}

export interface RecoveryLoopOptions {
  readonly intervalMs: number;
  readonly policy: RecoveryPolicy;
  /** The process that runs the loop, once it has registered. */
  readonly self: () => string | undefined;
  readonly onRecovered: (recovered: RecoveredProcess) => void;
  readonly onError: (error: unknown) => void;
}

/**
 * Prunes at once — what died while nothing watched is recovered at start —
 * and then every `intervalMs`. It runs where the dispatcher runs: in the
 * supervisor, or in a worker without one. A supervisor also calls
 * {@link RecoveryLoop.workerExited} when one of its workers dies, so that
 * worker's jobs go back at once instead of after its alive threshold.
 */
// #region loop
export class RecoveryLoop {
  readonly #stopping = new AbortController();
  readonly #database: Database;
  readonly #options: RecoveryLoopOptions;
  readonly #loop: Promise<void>;

  constructor(database: Database, options: RecoveryLoopOptions) {
    this.#database = database;
    this.#options = options;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    const { signal } = this.#stopping;
    while (!signal.aborted) {
      await this.#prune();
      await sleep(this.#options.intervalMs, undefined, { signal }).catch(() => {});
    }
  }

  async #prune(exited?: PruneRequest["exited"]): Promise<void> {
    const { policy, self, onRecovered, onError } = this.#options;
    try {
      const recovered = await pruneDeadProcesses(this.#database, {
        policy,
        self: self(),
        exited,
      });
      for (const process_ of recovered) onRecovered(process_);
    } catch (error) {
      onError(error);
    }
  }

  /**
   * A worker process of supervisor `supervisorId` exited: prune it now. The
   * supervisor awaits this before it starts a replacement, which could get
   * the same pid.
   */
  workerExited(supervisorId: string, pid: number): Promise<void> {
    return this.#prune({ supervisorId, pids: [pid] });
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
  }
}
// #endregion loop

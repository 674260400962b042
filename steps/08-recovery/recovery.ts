/**
 * Recovery: finding dead processes, and sending the jobs they held back
 * through the retry path.
 *
 * @module
 */
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Database, Sql } from "../../lib/postgres/database.ts";
import type { RetryBackoff } from "../../lib/step.ts";
import { retryDelayMs } from "./backoff.ts";
import { type Disposition, finishClaimedJob } from "./claims.ts";

/** How the recovered jobs are retried: the same rules as a job that threw. */
export interface RecoveryPolicy {
  maxAttemptsOf(jobName: string): number;
  readonly backoff: RetryBackoff;
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
 * Processes on THIS host whose pid no longer exists. They are dead for
 * certain, now — no need to wait out their alive threshold. (`kill(pid, 0)`
 * sends nothing; it only asks whether the pid exists. A pid reused by an
 * unrelated process reads as alive: the threshold then decides, which is
 * the safe direction. Two hosts with one hostname — containers started
 * with the same name — would break this; hostnames are unique in any
 * setup this step is meant for.)
 */
async function goneFromThisHost(sql: Sql): Promise<string[]> {
  const rows = await sql.query<{ id: string; pid: number }>(
    "SELECT id, pid FROM processes WHERE hostname = $1",
    [hostname()],
  );
  return rows.filter((row) => row.pid !== process.pid && !pidExists(row.pid)).map((row) => row.id);
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, someone else's
  }
}

/**
 * Prunes dead processes — a heartbeat older than their alive threshold, or
 * (on this host) a pid that no longer exists — in one transaction:
 *
 * 1. locks their rows, `FOR UPDATE SKIP LOCKED`: two pruners (two
 *    supervisors) never recover the same process twice;
 * 2. sends every job they had claimed back through the retry path, as if
 *    the attempt had thrown "the process died": the attempt counts (it was
 *    counted at claim time), so a job that kills its worker every time runs
 *    out of attempts and ends in the dead queue instead of crashing workers
 *    for ever — Solid Queue does the same with its `ProcessPrunedError`;
 * 3. deletes the process rows.
 *
 * A process taken for dead that was only slow (a long GC pause, a database
 * that was away) runs on: its jobs now also run elsewhere — at-least-once,
 * not exactly-once — and its late finishes change nothing (see
 * `finishClaimedJob`).
 */
// #region prune
export async function pruneDeadProcesses(
  database: Database,
  policy: RecoveryPolicy,
): Promise<RecoveredProcess[]> {
  const gone = await goneFromThisHost(database);
  return database.transaction(async (tx) => {
    const dead = await tx.query<{ id: string; name: string; pid: number; hostname: string }>(
      `SELECT id, name, pid, hostname FROM processes
       WHERE last_heartbeat_at <= now() - alive_threshold OR id = ANY($1::bigint[])
       ORDER BY id
       FOR UPDATE SKIP LOCKED`,
      [gone],
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
    const recovered: RecoveredProcess[] = [];
    for (const process_ of dead) {
      const jobs: RecoveredJob[] = [];
      const error = `ProcessDiedError: process ${process_.id} (${process_.name}, pid ${process_.pid} on ${process_.hostname}) died while running this job`;
      for (const claim of claims.filter((row) => row.process_id === process_.id)) {
        const delayMs = retryDelayMs(
          claim.attempts,
          policy.maxAttemptsOf(claim.name),
          true,
          policy.backoff,
        );
        const disposition: Disposition =
          delayMs === undefined
            ? { kind: "dead", error, stack: null }
            : { kind: "retry", delayMs, error };
        await finishClaimedJob(tx, { id: claim.job_id }, process_.id, disposition);
        jobs.push({ jobId: claim.job_id, name: claim.name, disposition: disposition.kind });
      }
      recovered.push({ processId: process_.id, name: process_.name, pid: process_.pid, jobs });
    }
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
  readonly onRecovered: (recovered: RecoveredProcess) => void;
  readonly onError: (error: unknown) => void;
}

/**
 * Prunes at once — the claims of processes that died while nothing watched
 * are released at start — and then every `intervalMs`. It runs where the
 * dispatcher runs: in the supervisor, or in a worker without one.
 */
// #region loop
export class RecoveryLoop {
  readonly #stopping = new AbortController();
  #napping = new AbortController();
  #woken = false;
  readonly #loop: Promise<void>;

  constructor(database: Database, options: RecoveryLoopOptions) {
    this.#loop = this.#run(database, options);
  }

  async #run(database: Database, options: RecoveryLoopOptions): Promise<void> {
    while (!this.#stopping.signal.aborted) {
      this.#woken = false;
      try {
        for (const recovered of await pruneDeadProcesses(database, options.policy)) {
          options.onRecovered(recovered);
        }
      } catch (error) {
        options.onError(error);
      }
      // Woken during the pass: what woke it may have come too late for it.
      if (this.#woken) continue;
      this.#napping = new AbortController();
      const nap = AbortSignal.any([this.#stopping.signal, this.#napping.signal]);
      await sleep(options.intervalMs, undefined, { signal: nap }).catch(() => {});
    }
  }

  /**
   * Prunes now rather than at the next interval: the supervisor calls it
   * when one of its workers exits unexpectedly, so that worker's jobs go
   * back at once (its pid is gone; no need to wait for the threshold).
   */
  wake(): void {
    this.#woken = true;
    this.#napping.abort();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
  }
}
// #endregion loop

/**
 * Job lifecycle events: what the stories print, what tests wait for and what
 * benchmarks time. They are in-process notifications, not part of any
 * queue's design — a worker in another process is observed through the
 * database instead.
 *
 * @module
 */
import { EventEmitter } from "node:events";
import { performance } from "node:perf_hooks";

export interface JobEventBase {
  readonly jobId: string;
  readonly name: string;
  /** Milliseconds since the Unix epoch, with sub-millisecond precision. */
  readonly at: number;
}

/** Every event, by name, with its payload. */
export interface JobEventMap {
  /** The job is stored and visible to workers (its transaction committed). */
  enqueued: JobEventBase;
  /** A worker is about to call `perform`. */
  started: JobEventBase & { readonly workerId: string };
  /** `perform` returned and the worker recorded it. */
  finished: JobEventBase & { readonly workerId: string; readonly durationMs: number };
  /**
   * `perform` threw (or timed out), the job was unknown or its arguments
   * unreadable, and the worker recorded it — for good: in steps with retries
   * (07 on), only after its last attempt, when it went to the dead queue.
   */
  failed: JobEventBase & { readonly workerId: string; readonly error: string };
  /**
   * An attempt failed and the job will run again (steps with retries, 07 on):
   * which attempt it was, why, and when the next one is due.
   */
  retrying: JobEventBase & {
    readonly workerId: string;
    readonly error: string;
    readonly attempt: number;
    /** When the next attempt is due (epoch ms). */
    readonly retryAt: number;
  };
  /**
   * The job's process died while it ran the job, and recovery sent the job
   * back through the retry path (steps with recovery, 08 on): `retry` — it
   * runs again after the backoff — or `dead`, its attempts used up.
   */
  recovered: JobEventBase & {
    /** Who noticed: the worker or supervisor that pruned the dead process. */
    readonly workerId: string;
    /** The dead process's id, name and pid, as it registered. */
    readonly deadProcess: string;
    readonly disposition: "retry" | "dead";
  };
  /**
   * A stopping worker gave the job back to ready, because its shutdown
   * timeout passed (steps with recovery, 08 on). The attempt is not
   * counted: the job did not fail, its worker left.
   */
  released: JobEventBase & {
    readonly workerId: string;
    /**
     * Why: the job was still running, or it had ended but its outcome could
     * not be recorded in time (the database was away), or (step 10) it was
     * claimed ahead and had not started. It runs again either way.
     */
    readonly reason: "still running" | "outcome not recorded" | "not started";
  };
  /**
   * The job ended, but its claim had been taken away meanwhile (steps with
   * recovery, 08 on: its worker was taken for dead, or released it on
   * shutdown), so its outcome was not recorded: the job runs, or ran,
   * again elsewhere. At-least-once delivery, seen from the slow worker.
   */
  superseded: JobEventBase & {
    readonly workerId: string;
    /** How this run ended, for the record that was not written. */
    readonly status: "finished" | "failed";
  };
  /** A worker's own query failed (the server went away, say); it waits and tries again. */
  workerError: { readonly workerId: string; readonly error: string; readonly at: number };
}

export type JobEventName = keyof JobEventMap;

/** A precise wall-clock timestamp for {@link JobEventBase.at}. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** A typed event emitter for {@link JobEventMap}. */
export class JobEvents {
  readonly #emitter = new EventEmitter();

  constructor() {
    // Tests and benchmarks may attach many waiters at once; that is not a leak.
    this.#emitter.setMaxListeners(0);
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<E extends JobEventName>(event: E, listener: (payload: JobEventMap[E]) => void): () => void {
    this.#emitter.on(event, listener);
    return () => this.#emitter.off(event, listener);
  }

  emit<E extends JobEventName>(event: E, payload: JobEventMap[E]): void {
    this.#emitter.emit(event, payload);
  }
}

/**
 * Running one job: look the name up in the registry, parse the arguments,
 * call `perform`, let the step record the outcome, then announce it.
 *
 * Every step does this the same way; what differs between steps is what they
 * do around it (which transaction, which table the outcome goes to), so this
 * part lives in `lib/` and each step passes in how it records the outcome.
 *
 * @module
 */
import { type JobEvents, now } from "../events.ts";
import { checkJobArguments } from "./argument-schema.ts";
import { parseArguments } from "./arguments.ts";
import {
  CorruptArgumentsError,
  JobArgumentsError,
  JobTimeoutError,
  UnknownJobError,
} from "./errors.ts";
import type { JobRegistry } from "./registry.ts";

/** A job as a worker found it in the queue. */
export interface StoredJob {
  readonly id: string;
  readonly name: string;
  /** The arguments as stored: JSON text. */
  readonly arguments: string;
  /** Which attempt this run is, from 1 (steps with retries count them; absent means 1). */
  readonly attempt?: number;
}

/** What happened when a job ran. A throwing job is an outcome, not an exception. */
export type JobOutcome =
  | { readonly status: "finished"; readonly durationMs: number }
  | {
      readonly status: "failed";
      readonly error: string;
      readonly stack: string | null;
      /**
       * Whether running it again could succeed. An unknown job name or
       * unreadable arguments fail the same way every time (this worker's
       * registry does not change between attempts), so steps with retries
       * send those to the dead queue at once instead of retrying them.
       */
      readonly retryable: boolean;
    };

/**
 * What a step's `record` says it did with a failed attempt when it will run
 * the job again (steps with retries, 07 on): which attempt failed, and when
 * the next is due. `performJob` then announces `retrying`, not `failed`.
 */
export interface RetryScheduled {
  readonly attempt: number;
  /** Epoch milliseconds. */
  readonly retryAt: number;
}

/**
 * What a step's `record` says when the outcome was not its to record any
 * more (steps with recovery, 08 on): the claim had been taken away — this
 * worker was taken for dead, or released the job when it stopped — and the
 * job runs, or ran, again elsewhere. `performJob` then announces
 * `superseded`, neither `finished` nor `failed`.
 */
export const SUPERSEDED = "superseded";

/** Who runs the job, with what, and who hears about it. */
export interface PerformContext {
  readonly registry: JobRegistry;
  readonly workerId: string;
  readonly events: JobEvents;
  /**
   * How long an attempt may run, for jobs that set no `timeoutMs` of their
   * own; absent: no limit (what steps 01–06 do).
   */
  readonly timeoutMs?: number;
}

/**
 * Runs `job` with the definition the registry holds for its name, hands the
 * outcome to `record` (the step's own bookkeeping: an UPDATE, a DELETE, a
 * Redis counter), and only then emits `finished` or `failed` — so whoever
 * hears the event can already see the outcome in the queue's storage.
 *
 * A job that throws, one that outlives its timeout, an unknown name and
 * unreadable arguments all become a `failed` outcome; only an error from
 * `record` itself propagates. When `record` resolves with a
 * {@link RetryScheduled}, the failure is announced as `retrying`; with
 * {@link SUPERSEDED}, the outcome as `superseded`.
 */
export async function performJob(
  job: StoredJob,
  context: PerformContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: steps without retries record and return nothing (Promise<void>).
  record: (outcome: JobOutcome) => Promise<void | RetryScheduled | typeof SUPERSEDED>,
): Promise<JobOutcome> {
  const { workerId, events } = context;
  const startedAt = now();
  events.emit("started", { jobId: job.id, name: job.name, workerId, at: startedAt });
  const outcome = await runPerform(job, context, startedAt);
  const retry = await record(outcome);
  const at = now();
  if (retry === SUPERSEDED) {
    events.emit("superseded", {
      jobId: job.id,
      name: job.name,
      workerId,
      at,
      status: outcome.status,
    });
  } else if (outcome.status === "failed" && retry) {
    events.emit("retrying", {
      jobId: job.id,
      name: job.name,
      workerId,
      at,
      error: outcome.error,
      attempt: retry.attempt,
      retryAt: retry.retryAt,
    });
  } else if (outcome.status === "finished") {
    events.emit("finished", {
      jobId: job.id,
      name: job.name,
      workerId,
      at,
      durationMs: outcome.durationMs,
    });
  } else {
    events.emit("failed", { jobId: job.id, name: job.name, workerId, at, error: outcome.error });
  }
  return outcome;
}

async function runPerform(
  job: StoredJob,
  context: PerformContext,
  startedAt: number,
): Promise<JobOutcome> {
  const giveUp = new AbortController();
  try {
    const definition = context.registry.lookup(job.name);
    const args = checkJobArguments(definition, parseArguments(job.arguments, job.id), job.id);
    const jobContext = {
      jobId: job.id,
      workerId: context.workerId,
      attempt: job.attempt ?? 1,
      signal: giveUp.signal,
    };
    // Through a promise, so a perform that throws synchronously is caught the same way.
    const running = Promise.resolve().then(() => definition.perform(args, jobContext));
    const timeoutMs = definition.timeoutMs ?? context.timeoutMs;
    await (timeoutMs === undefined ? running : withTimeout(running, timeoutMs, job.id, giveUp));
    return { status: "finished", durationMs: now() - startedAt };
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    return {
      status: "failed",
      error: `${error.name}: ${error.message}`,
      stack: error.stack ?? null,
      retryable: !(
        error instanceof UnknownJobError ||
        error instanceof CorruptArgumentsError ||
        error instanceof JobArgumentsError
      ),
    };
  }
}

/**
 * Waits for `running` at most `timeoutMs`, then rejects with a
 * {@link JobTimeoutError} and aborts the job's signal.
 *
 * What a timeout can and cannot stop, in Node.js: it stops the WORKER from
 * waiting. The attempt is recorded as failed and its slot is free for the
 * next job at once. It cannot stop the JOB: JavaScript has no way to cancel
 * a promise or to kill a function from outside. A job awaiting a network
 * call that never answers keeps its socket and memory until the call gives
 * up; a job that goes on after the timeout still has its side effects (the
 * email goes out, late) — while its retry may already run. A job stuck in
 * synchronous code (an endless loop, a catastrophic regular expression) is
 * worse: it blocks the event loop, so this timer never even fires, and
 * neither do the heartbeats — only killing the process stops it (what the
 * supervisor of step 06 is for). What a timeout CAN do is ask: the job's
 * `signal` aborts, and a job that passes it to `fetch`, to timers, or checks
 * it in its loops, stops for real. (Sidekiq removed its timeout for the same
 * reason: Ruby's `Timeout` interrupts a thread anywhere, even in the middle
 * of an `ensure`, and leaves things half done. A real system that must stop
 * runaway jobs runs them in a child process or a worker thread it can kill.)
 */
function withTimeout(
  running: Promise<void>,
  timeoutMs: number,
  jobId: string,
  giveUp: AbortController,
): Promise<void> {
  // The abandoned attempt may still reject later; nobody listens any more.
  running.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new JobTimeoutError(jobId, timeoutMs);
      giveUp.abort(error);
      reject(error);
    }, timeoutMs);
  });
  return Promise.race([running, timedOut]).finally(() => clearTimeout(timer));
}

/**
 * Running one job: look the name up in the registry, parse the arguments,
 * call `perform`, and turn whatever happens into an outcome; then, once the
 * step has recorded that outcome, announce it.
 *
 * Every step runs and announces a job the same way; what differs between
 * steps is what they do in between (which transaction, which table the
 * outcome goes to), so the two ends live in `lib/` and each step writes the
 * middle itself, where its lesson can show it.
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
 * What the step did with an outcome, for {@link announceOutcome}: recorded
 * it as it was (finished, or failed for good); scheduled another attempt
 * (steps with retries, 07 on); or found that the outcome was not its to
 * record any more (steps with recovery, 08 on) — the claim had been taken
 * away, because this worker was taken for dead or released the job when it
 * stopped, and the job runs, or ran, again elsewhere.
 */
export type RecordedOutcome =
  | JobOutcome
  | {
      readonly status: "retrying";
      readonly error: string;
      /** The attempt that failed. */
      readonly attempt: number;
      /** When the next attempt is due, epoch milliseconds. */
      readonly retryAt: number;
    }
  | { readonly status: "superseded"; readonly outcome: JobOutcome["status"] };

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
 * Announces that `job` started, runs it with the definition the registry
 * holds for its name, and returns what happened. A job that throws, one that
 * outlives its timeout, an unknown name and unreadable arguments all become
 * a `failed` outcome; nothing here throws.
 *
 * Recording the outcome is the step's own business — an UPDATE, a DELETE, a
 * Redis command, in which transaction — and so is announcing it afterwards
 * with {@link announceOutcome}, once whoever hears the event can already see
 * the outcome in the queue's storage:
 *
 * ```ts
 * const outcome = await performJob(job, context);
 * await recordOutcome(job, outcome);
 * announceOutcome(context, job, outcome);
 * ```
 */
export async function performJob(job: StoredJob, context: PerformContext): Promise<JobOutcome> {
  const startedAt = now();
  context.events.emit("started", {
    jobId: job.id,
    name: job.name,
    workerId: context.workerId,
    at: startedAt,
  });
  return runPerform(job, context, startedAt);
}

/**
 * Emits the event that ends a job's run — `finished`, `failed`, `retrying`
 * or `superseded` — after the step has recorded it.
 */
export function announceOutcome(
  { events, workerId }: Pick<PerformContext, "events" | "workerId">,
  job: Pick<StoredJob, "id" | "name">,
  recorded: RecordedOutcome,
): void {
  const about = { jobId: job.id, name: job.name, workerId, at: now() };
  switch (recorded.status) {
    case "finished":
      events.emit("finished", { ...about, durationMs: recorded.durationMs });
      return;
    case "failed":
      events.emit("failed", { ...about, error: recorded.error });
      return;
    case "retrying":
      events.emit("retrying", {
        ...about,
        error: recorded.error,
        attempt: recorded.attempt,
        retryAt: recorded.retryAt,
      });
      return;
    case "superseded":
      events.emit("superseded", { ...about, status: recorded.outcome });
      return;
  }
}

async function runPerform(
  job: StoredJob,
  context: PerformContext,
  startedAt: number,
): Promise<JobOutcome> {
  const giveUp = new AbortOnDemand();
  try {
    const definition = context.registry.lookup(job.name);
    const args = checkJobArguments(definition, parseArguments(job.arguments, job.id), job.id);
    const jobContext = {
      jobId: job.id,
      workerId: context.workerId,
      attempt: job.attempt ?? 1,
      get signal() {
        return giveUp.signal;
      },
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
  giveUp: AbortOnDemand,
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

/**
 * A job's abort signal, made when the job first reads it, or when it is
 * aborted. Most jobs never look at their signal, and an `AbortController`
 * is not cheap in Node.js: made for every job, it cost about 2 µs per job —
 * a third of what `performJob` spent on a no-op job (200,000 calls in a
 * loop), a twentieth of the CPU step 10's worker spends per job in the
 * throughput benchmark. Rejected: one per slot, reused — a job that outlived
 * its timeout keeps its signal, and must not see the next job's abort, or
 * miss its own.
 */
class AbortOnDemand {
  #controller: AbortController | undefined;

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  abort(reason: Error): void {
    this.#controller ??= new AbortController();
    this.#controller.abort(reason);
  }
}

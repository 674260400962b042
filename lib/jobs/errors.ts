/**
 * Errors about jobs themselves: what was asked to run, and with what.
 * Each message says what went wrong and what to do about it.
 *
 * @module
 */
import { InputError } from "../input-error.ts";

/** Arguments that would not survive a JSON round trip. Nothing was stored. */
export class InvalidArgumentsError extends InputError {
  override name = "InvalidArgumentsError";
  constructor(
    /** Where in the arguments the problem is, e.g. `arguments.user.createdAt`. */
    readonly path: string,
    reason: string,
  ) {
    super(`Job arguments are not JSON at ${path}: ${reason}. Nothing was enqueued.`);
  }
}

/**
 * Arguments that are JSON, but not what the job takes: its `arguments` schema
 * refused them. At enqueue (no `jobId`) nothing was stored; in the worker
 * (with the `jobId` of a row written past the enqueue check, by hand or by an
 * older version of the job) the job fails at once and is not retried — it
 * would fail the same way every time.
 */
export class JobArgumentsError extends InputError {
  override name = "JobArgumentsError";
  constructor(
    readonly jobName: string,
    /** One line per problem, each naming its field: `ms: Invalid input: expected number, received string`. */
    readonly problems: readonly string[],
    example: unknown,
    readonly jobId?: string,
  ) {
    const what = problems.join("; ");
    const takes = `It takes e.g. ${JSON.stringify(example)}`;
    super(
      jobId === undefined
        ? `${jobName} does not take these arguments: ${what}. ${takes}. Nothing was enqueued.`
        : `Job ${jobId}'s stored arguments do not fit ${jobName}: ${what}. ${takes}; enqueue it again with such arguments (it is not retried: it would fail the same way).`,
    );
  }
}

/** Serialized arguments over `MAX_ARGUMENTS_BYTES`. Nothing was stored. */
export class ArgumentsTooLargeError extends InputError {
  override name = "ArgumentsTooLargeError";
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `Job arguments are ${bytes} bytes of JSON, over the limit of ${limit}. Pass an id and load the data in the job instead. Nothing was enqueued.`,
    );
  }
}

/** Stored arguments that are no longer valid JSON (edited or damaged in the database). */
export class CorruptArgumentsError extends Error {
  override name = "CorruptArgumentsError";
  constructor(
    readonly jobId: string,
    parserMessage: string,
  ) {
    super(
      `Job ${jobId} has stored arguments that are not valid JSON (${parserMessage}); it cannot run.`,
    );
  }
}

/**
 * A job name that is not in the worker's registry. The worker refuses to run
 * it and records the job as failed; see `JobRegistry` for why.
 */
export class UnknownJobError extends Error {
  override name = "UnknownJobError";
  constructor(
    readonly jobName: string,
    known: readonly string[],
  ) {
    super(
      `Unknown job ${JSON.stringify(jobName)}: this worker only runs registered jobs (${known.join(", ") || "none"}). Register it with the worker's JobRegistry, or check the name.`,
    );
  }
}

/**
 * An attempt that ran longer than its timeout: the worker stopped waiting for
 * it and counted it as failed (see `performJob` for what that does and does
 * not stop).
 */
export class JobTimeoutError extends Error {
  override name = "JobTimeoutError";
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(
      `Job ${jobId} did not finish within its timeout of ${timeoutMs} ms; the worker gave up on this attempt. Raise the job's timeoutMs if it needs longer, or make it stop when its signal aborts.`,
    );
  }
}

/**
 * What a job is: a name, and a function that does the work.
 *
 * A job is defined once, in TypeScript, and the same definition is used on
 * both sides: the enqueuing code names it, the worker runs it. The name, not
 * the function, is what goes into the database or Redis — a stored job is
 * data (`{ name, arguments }`), never code.
 *
 * @module
 */
import type { JsonValue } from "./arguments.ts";

/** What a running job knows about itself besides its arguments. */
export interface JobContext {
  /** The id its queue gave it: a row id in PostgreSQL, a generated id in Redis. */
  readonly jobId: string;
  /** Which worker (process and slot) runs it, for logs and for tests that watch who ran what. */
  readonly workerId: string;
  /**
   * Which attempt this is, from 1. Always 1 in steps without retries; from
   * step 07 on, a job that failed is run again and this counts up.
   */
  readonly attempt: number;
  /**
   * Aborted when the worker gives up on this attempt (its timeout passed, see
   * `performJob`). A job that passes it on — to `fetch`, to a timer, to its
   * own loop — stops when told; a job that ignores it runs on, unobserved.
   */
  readonly signal: AbortSignal;
}

/** A job the worker may run: its registered name and its `perform`. */
export interface JobDefinition<Args extends JsonValue = JsonValue> {
  readonly name: string;
  /** One-line description, shown by `npm run step NN -- enqueue --help`. */
  readonly description: string;
  /** An example argument value, shown in help texts and used by stories. */
  readonly exampleArguments: Args;
  /**
   * How many times to try it before it goes to the dead queue, for steps with
   * retries (07 on); the worker's default when absent. 1 means "never retry":
   * for a job that must not run twice even after a failure (one that charges
   * a card and cannot tell whether the last try did).
   */
  readonly maxAttempts?: number;
  /**
   * How long one attempt may run before the worker gives up on it and counts
   * it as failed. `performJob` applies it in every step; step 07 adds a
   * worker-wide default for jobs without one, and retries a timed-out
   * attempt. See `performJob` for what a timeout can and cannot stop.
   */
  readonly timeoutMs?: number;
  perform(args: Args, context: JobContext): Promise<void> | void;
}

/**
 * Defines a job. The type parameter ties `perform`'s argument type to what
 * callers pass when they enqueue it by name through a `JobRegistry`.
 *
 * @example
 * ```ts
 * const sendWelcomeEmail = defineJob({
 *   name: "SendWelcomeEmail",
 *   description: "pretends to send an email",
 *   exampleArguments: { userId: 42 },
 *   async perform({ userId }) { await mailer.send(userId) },
 * });
 * ```
 */
export function defineJob<Args extends JsonValue>(
  definition: JobDefinition<Args>,
): JobDefinition<Args> {
  if (!/^[A-Za-z][A-Za-z0-9_.:-]{0,99}$/.test(definition.name)) {
    throw new TypeError(
      `Invalid job name ${JSON.stringify(definition.name)}: use 1-100 letters, digits, '_', '.', ':' or '-', starting with a letter.`,
    );
  }
  for (const [field, value] of [
    ["maxAttempts", definition.maxAttempts],
    ["timeoutMs", definition.timeoutMs],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
      throw new TypeError(
        `Invalid ${field} ${value} for job ${definition.name}: use a whole number of at least 1.`,
      );
    }
  }
  return definition;
}

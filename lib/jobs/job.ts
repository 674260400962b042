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
import type { z } from "zod";
import { describeIssues } from "./argument-schema.ts";
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
  /**
   * What arguments it takes, as a zod schema, e.g.
   * `z.strictObject({ ms: z.int().min(0) })`: checked at enqueue (nothing is
   * stored when they do not fit) and again by the worker before `perform`
   * (a stored row that does not fit fails at once, without retries); see
   * `checkJobArguments`. It also gives `Args`, so `perform`'s parameter
   * needs no type of its own, and `enqueue --help` prints it.
   *
   * Optional, on purpose. A job whose arguments come from outside its own
   * code — typed at a command line, posted by a form, written by another
   * service — should have one: it is what stops `{"ms": "abc"}` at the door
   * rather than in the worker, and every workshop job has one. A job
   * without one takes any JSON value, as before: the tests' own jobs are
   * enqueued only by the test that defines them, a few lines away, where
   * the type parameter already says what they take; requiring a schema
   * there would restate it in every test and check nothing new.
   */
  readonly arguments?: z.ZodType<Args>;
  /** An example argument value, shown in help texts and used by stories; it must fit {@link arguments}. */
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
 * Defines a job. `perform`'s argument type comes from the `arguments` schema
 * when there is one, or from the type parameter (`defineJob<{ ms: number }>`)
 * when there is not.
 *
 * @example
 * ```ts
 * const sendWelcomeEmail = defineJob({
 *   name: "SendWelcomeEmail",
 *   description: "pretends to send an email",
 *   arguments: z.strictObject({ userId: z.int().positive() }),
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
  // An example that does not fit would be refused by the job's own enqueue;
  // better to hear it where the job is defined.
  const example = definition.arguments?.safeParse(definition.exampleArguments);
  if (example?.success === false) {
    throw new TypeError(
      `The exampleArguments of job ${definition.name} do not fit its arguments schema (${describeIssues(example.error).join("; ")}): change one or the other.`,
    );
  }
  return definition;
}

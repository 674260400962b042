/**
 * Checking {@link EnqueueOptions} against what a step supports, before
 * anything is stored.
 *
 * A step that has no priorities would store an "urgent" job like any other
 * and run it last; one without scheduled jobs would run a job meant for next
 * week at once. Both are worse than an error, so the options a step cannot
 * honour are refused, with the step that adds them named. What a step
 * supports is read from the guarantees it declares — one source of truth.
 *
 * A concurrency limit is refused too, rather than ignored, by a step without
 * `concurrencyLimits`. Ignoring it would look harmless — the jobs still run
 * — but the caller asked for "one at a time" because running two at once
 * does damage (two syncs of one account overwriting each other), and would
 * believe a limit holds that nothing enforces.
 *
 * @module
 */
import { InputError } from "./input-error.ts";
import type { ConcurrencyLimit, EnqueueOptions, NewJob, RateLimit, Step } from "./step.ts";

/** The largest priority: a PostgreSQL `smallint`. */
export const MAX_PRIORITY = 32_767;
const QUEUE_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
/** What a queue name may be, in words, for error messages. */
export const QUEUE_NAME_RULE = "1-100 letters, digits, '_', '.', ':' or '-'";

/**
 * What is wrong with `queue` as a queue name, or `undefined` if nothing is.
 * One rule for both sides: `enqueue --queue` and `worker --queues` check with
 * this, so a worker can never be told to serve a queue no job can be put in
 * (and a name with a quote in it is refused at once, not served for ever).
 */
export function queueNameProblem(queue: string): string | undefined {
  if (QUEUE_NAME.test(queue)) return undefined;
  return `Invalid queue name ${JSON.stringify(queue)}: use ${QUEUE_NAME_RULE}.`;
}

/** The most jobs of one key a limit may let run at once. */
export const MAX_CONCURRENCY_LIMIT = 10_000;
/** The longest concurrency key, in characters. */
export const MAX_CONCURRENCY_KEY_LENGTH = 200;
const CONCURRENCY_KEY = new RegExp(
  `^[^\\u0000-\\u001f\\u007f]{1,${MAX_CONCURRENCY_KEY_LENGTH}}$`,
  "u",
);
/** The most jobs a rate limit may let start per period. */
export const MAX_RATE_LIMIT = 1_000_000;
/** The longest period a rate limit may have: 31 days, in milliseconds. */
export const MAX_RATE_PERIOD_MS = 31 * 86_400_000;
const RATE_KEY = /^[\x21-\x7e]{1,200}$/;
/** What a rate key may be, in words, for error messages. */
export const RATE_KEY_RULE = "1-200 printable ASCII characters, no spaces";

/** An option the step cannot honour, or a value no step accepts. Nothing was stored. */
export class EnqueueOptionError extends InputError {
  override name = "EnqueueOptionError";
}

/** Throws an {@link EnqueueOptionError} for the first option of `jobs` that `step` cannot honour. */
export function checkEnqueueOptions(step: Step, jobs: readonly NewJob[]): void {
  const priorities = step.guarantees.includes("priorities");
  const scheduling = step.guarantees.includes("scheduledJobs");
  for (const job of jobs) {
    if (!priorities && (job.queue !== undefined || job.priority !== undefined)) {
      throw new EnqueueOptionError(
        `Step ${step.id} has no named queues or priorities (step 07 adds them): enqueue without queue and priority. Nothing was enqueued.`,
      );
    }
    if (!scheduling && job.runAt !== undefined) {
      throw new EnqueueOptionError(
        `Step ${step.id} cannot schedule jobs for later (step 07 adds scheduled jobs): enqueue without runAt. Nothing was enqueued.`,
      );
    }
    if (!step.guarantees.includes("concurrencyLimits") && job.concurrency !== undefined) {
      throw new EnqueueOptionError(
        `Step ${step.id} has no concurrency limits (step 11 adds them): it would run these jobs as many at once as it has slots. Enqueue without concurrency, or on step 11. Nothing was enqueued.`,
      );
    }
    // A step without rate limits would take "at most 10 per second" and
    // start all 10,000 jobs at once: the caller would believe a limit holds
    // (an API's quota, a partner's patience) where none does, and learn
    // otherwise from the 429s. So the option is refused, not ignored.
    if (job.rateLimit !== undefined && !step.guarantees.includes("rateLimits")) {
      throw new EnqueueOptionError(
        `Step ${step.id} cannot hold jobs to a rate limit (step 12 adds rate limits): enqueue without rateLimit. Nothing was enqueued.`,
      );
    }
    checkValues(job);
  }
}

function checkValues(options: EnqueueOptions): void {
  const { queue, priority, runAt } = options;
  const queueProblem = queue === undefined ? undefined : queueNameProblem(queue);
  if (queueProblem !== undefined) {
    throw new EnqueueOptionError(`${queueProblem} Nothing was enqueued.`);
  }
  if (
    priority !== undefined &&
    (!Number.isSafeInteger(priority) || priority < 0 || priority > MAX_PRIORITY)
  ) {
    throw new EnqueueOptionError(
      `Invalid priority ${priority}: use a whole number from 0 (most urgent) to ${MAX_PRIORITY}. Nothing was enqueued.`,
    );
  }
  if (runAt !== undefined && !(runAt instanceof Date && Number.isFinite(runAt.getTime()))) {
    throw new EnqueueOptionError(
      `Invalid runAt ${String(runAt)}: pass a valid Date. Nothing was enqueued.`,
    );
  }
  const limitProblem =
    (options.concurrency === undefined ? undefined : concurrencyProblem(options.concurrency)) ??
    (options.rateLimit === undefined ? undefined : rateLimitProblem(options.rateLimit));
  if (limitProblem !== undefined) {
    throw new EnqueueOptionError(`${limitProblem} Nothing was enqueued.`);
  }
}

/** What is wrong with `concurrency`, or `undefined` if nothing is. */
function concurrencyProblem({ key, limit }: ConcurrencyLimit): string | undefined {
  // No control characters: PostgreSQL's text refuses "\u0000", and a key is
  // printed by `stats`, where a newline or an escape sequence would lie.
  if (typeof key !== "string" || !CONCURRENCY_KEY.test(key)) {
    return `Invalid concurrency key ${JSON.stringify(key)}: use 1 to ${MAX_CONCURRENCY_KEY_LENGTH} characters, none of them a control character, such as "account:42".`;
  }
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_CONCURRENCY_LIMIT) {
    return `Invalid concurrency limit ${limit}: use a whole number from 1 (one at a time) to ${MAX_CONCURRENCY_LIMIT}.`;
  }
  return undefined;
}

/** What is wrong with `rateLimit`, or `undefined` if nothing is. */
function rateLimitProblem({ key, limit, periodMs }: RateLimit): string | undefined {
  if (typeof key !== "string" || !RATE_KEY.test(key)) {
    return `Invalid rate key ${JSON.stringify(key)}: use ${RATE_KEY_RULE}.`;
  }
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RATE_LIMIT) {
    return `Invalid rate limit ${limit}: use a whole number of jobs per period, from 1 to ${MAX_RATE_LIMIT}.`;
  }
  if (!Number.isSafeInteger(periodMs) || periodMs < 1 || periodMs > MAX_RATE_PERIOD_MS) {
    return `Invalid rate period ${periodMs} ms: use a whole number of milliseconds, from 1 to ${MAX_RATE_PERIOD_MS} (31 days).`;
  }
  return undefined;
}

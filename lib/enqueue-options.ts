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
 * @module
 */
import type { EnqueueOptions, NewJob, Step } from "./step.ts";

/** The largest priority: a PostgreSQL `smallint`. */
export const MAX_PRIORITY = 32_767;
const QUEUE_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
/** What a queue name may be, in words, for error messages. */
export const QUEUE_NAME_RULE = "1-100 letters, digits, '_', '.', ':' or '-'";

/** Whether `name` can name a queue: what `enqueue --queue` and `worker --queues` accept. */
export function isQueueName(name: string): boolean {
  return QUEUE_NAME.test(name);
}

/** An option the step cannot honour, or a value no step accepts. Nothing was stored. */
export class EnqueueOptionError extends Error {
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
    checkValues(job);
  }
}

function checkValues(options: EnqueueOptions): void {
  const { queue, priority, runAt } = options;
  if (queue !== undefined && !isQueueName(queue)) {
    throw new EnqueueOptionError(
      `Invalid queue name ${JSON.stringify(queue)}: use ${QUEUE_NAME_RULE}. Nothing was enqueued.`,
    );
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
}

/**
 * What the dashboard shows, read from a step through the contract only: every
 * step answers `counts` and `queues`; the optional members answer where the
 * step has them (processes from 06, the dead queue and scheduled jobs from
 * 07, concurrency keys in 11, rate keys in 12, schedules in 13, batches in
 * 14). The dashboard has no code for any one step.
 *
 * @module
 */
import type {
  BatchReport,
  ConcurrencyKeyReport,
  FailedJobReport,
  ProcessReport,
  QueueReport,
  RateLimitReport,
  ScheduledJobReport,
  ScheduleReport,
  StepInstance,
} from "../../step.ts";

/** How many rows a table shows (dead and scheduled jobs, keys, batches); the rest are counted. */
export const ROWS_SHOWN = 50;

/** One reading of a step, as the page renders it. Absent members: the step has no such thing. */
export interface Snapshot {
  /** When it was read (milliseconds since the epoch). */
  readonly at: number;
  /** How long reading it took, in milliseconds. */
  readonly readMs: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly queues: readonly QueueReport[];
  readonly processes?: readonly ProcessReport[];
  /** The dead queue: the oldest failures, up to {@link ROWS_SHOWN}, and how many in all. */
  readonly dead?: { readonly shown: readonly FailedJobReport[]; readonly total: number };
  readonly scheduled?: readonly ScheduledJobReport[];
  readonly concurrencyKeys?: readonly ConcurrencyKeyReport[];
  readonly rateLimits?: readonly RateLimitReport[];
  readonly schedules?: readonly ScheduleReport[];
  readonly batches?: readonly BatchReport[];
}

/** Reads everything the step answers, the independent questions at once. */
export async function readSnapshot(instance: StepInstance): Promise<Snapshot> {
  const started = performance.now();
  const [
    counts,
    queues,
    processes,
    failed,
    scheduled,
    concurrencyKeys,
    rateLimits,
    schedules,
    batches,
  ] = await Promise.all([
    instance.counts(),
    instance.queues(),
    instance.processes?.(),
    instance.failedJobs?.(),
    instance.scheduledJobs?.(ROWS_SHOWN),
    instance.concurrencyKeys?.(),
    instance.rateLimits?.(),
    instance.scheduler?.().list(),
    instance.batches?.list(),
  ]);
  return {
    at: Date.now(),
    readMs: performance.now() - started,
    counts,
    queues,
    processes,
    dead: failed && { shown: failed.slice(0, ROWS_SHOWN), total: failed.length },
    scheduled,
    concurrencyKeys,
    rateLimits,
    schedules,
    batches,
  };
}

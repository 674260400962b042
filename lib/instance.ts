/**
 * Assembling a {@link StepInstance} from a step's parts.
 *
 * What every step does the same way — `enqueue` as a batch of one, the
 * `enqueued` event after the write is visible — is written here once; the
 * step supplies only what its lesson is about.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { checkEnqueueOptions } from "./enqueue-options.ts";
import { JobEvents, now } from "./events.ts";
import { checkJobArguments } from "./jobs/argument-schema.ts";
import type { JsonValue } from "./jobs/arguments.ts";
import { workshopJobs } from "./jobs/catalog.ts";
import type { Database } from "./postgres/database.ts";
import type {
  Batches,
  ConcurrencyKeyReport,
  EnqueueOptions,
  FailedJobReport,
  GivenSettings,
  NewJob,
  ProcessReport,
  QueueReport,
  RateLimitReport,
  RecurringSchedule,
  ScheduledJobReport,
  Scheduler,
  Step,
  StepInstance,
  SuperviseOptions,
  Supervisor,
  Worker,
  WorkerOptions,
} from "./step.ts";

/** The parts of an instance that differ between steps. */
export interface InstanceParts {
  readonly step: Step;
  readonly namespace: string;
  readonly database?: Database;
  readonly redis?: Redis;
  /** Stores the jobs (all or nothing) and returns their ids; visible to workers when it resolves. */
  insertJobs(jobs: readonly NewJob[]): Promise<string[]>;
  startWorker(events: JobEvents, options: WorkerOptions & GivenSettings): Worker;
  counts(): Promise<Readonly<Record<string, number>>>;
  /** See {@link StepInstance.queues}. */
  queues(): Promise<readonly QueueReport[]>;
  fillHistory(count: number): Promise<void>;
  statementsSent(): number;
  reset(): Promise<void>;
  close(): Promise<void>;
  /** See {@link StepInstance.processes}. */
  processes?(): Promise<readonly ProcessReport[]>;
  /** See {@link StepInstance.supervise}. */
  supervise?(options: SuperviseOptions & GivenSettings): Promise<Supervisor>;
  /** See {@link StepInstance.failedJobs}. */
  failedJobs?(): Promise<readonly FailedJobReport[]>;
  /** See {@link StepInstance.retryFailedJobs}. */
  retryFailedJobs?(which: readonly string[] | "all"): Promise<string[]>;
  /** See {@link StepInstance.discardFailedJobs}. */
  discardFailedJobs?(which: readonly string[] | "all"): Promise<string[]>;
  /** See {@link StepInstance.scheduledJobs}. */
  scheduledJobs?(limit: number): Promise<readonly ScheduledJobReport[]>;
  /**
   * See {@link StepInstance.batches}. Its `add` only stores; the instance
   * checks the jobs first and announces them after, as for `enqueueMany`.
   */
  readonly batches?: Batches;
  /** See {@link StepInstance.concurrencyKeys}. */
  concurrencyKeys?(): Promise<readonly ConcurrencyKeyReport[]>;
  /** See {@link StepInstance.rateLimits}. */
  rateLimits?(): Promise<readonly RateLimitReport[]>;
  /** See {@link StepInstance.scheduler}. */
  scheduler?(schedules?: readonly RecurringSchedule[]): Scheduler;
}

/**
 * The jobs whose arguments `enqueue` checks against their schema: the
 * workshop's, which is also the registry a worker runs when given none. A
 * queue stores a job by name and cannot know which registry the worker that
 * takes it will hold; a name outside this one (a test's own job) is stored
 * as it is, and the worker that runs it checks it against its own registry
 * before `perform` (see `checkJobArguments`).
 */
const KNOWN_JOBS = workshopJobs();

export function assembleInstance(parts: InstanceParts): StepInstance {
  const events = new JobEvents();
  /** Checks `jobs`, stores them with `insert`, and announces them once they are visible. */
  async function checkStoreAnnounce(
    jobs: readonly NewJob[],
    insert: (jobs: readonly NewJob[]) => Promise<string[]>,
  ): Promise<string[]> {
    checkEnqueueOptions(parts.step, jobs);
    for (const job of jobs) {
      if (KNOWN_JOBS.has(job.name)) checkJobArguments(KNOWN_JOBS.lookup(job.name), job.args ?? {});
    }
    const ids = await insert(jobs);
    const at = now();
    ids.forEach((jobId, index) => {
      events.emit("enqueued", { jobId, name: jobs[index]?.name ?? "", at });
    });
    return ids;
  }
  const enqueueMany = (jobs: readonly NewJob[]) => checkStoreAnnounce(jobs, parts.insertJobs);
  const { batches } = parts;
  return {
    step: parts.step,
    namespace: parts.namespace,
    database: parts.database,
    redis: parts.redis,
    events,
    enqueueMany,
    async enqueue(name: string, args?: JsonValue, options?: EnqueueOptions) {
      const [id] = await enqueueMany([{ ...options, name, args: args === undefined ? {} : args }]);
      if (id === undefined) throw new Error("The queue stored no job and reported no error.");
      return id;
    },
    startWorker: (options = {}) => parts.startWorker(events, options),
    counts: () => parts.counts(),
    queues: () => parts.queues(),
    fillHistory: (count) => parts.fillHistory(count),
    statementsSent: () => parts.statementsSent(),
    reset: () => parts.reset(),
    close: () => parts.close(),
    processes: parts.processes,
    supervise: parts.supervise,
    failedJobs: parts.failedJobs,
    retryFailedJobs: parts.retryFailedJobs,
    discardFailedJobs: parts.discardFailedJobs,
    scheduledJobs: parts.scheduledJobs,
    batches: batches && {
      ...batches,
      add: (batchId, jobs) => checkStoreAnnounce(jobs, (checked) => batches.add(batchId, checked)),
    },
    concurrencyKeys: parts.concurrencyKeys,
    rateLimits: parts.rateLimits,
    scheduler: parts.scheduler,
  };
}

/** The namespace (Postgres schema, Redis key prefix) a step uses unless told otherwise. */
export function defaultNamespace(step: Pick<Step, "id">): string {
  return `step_${step.id}`;
}

/**
 * The contract between a step and everything that uses it.
 *
 * A step folder exports one {@link Step}. The CLI, the contract suite, the
 * stories and the benchmarks only ever talk to a step through this object, so
 * adding a lesson is adding a folder: `steps/NN-slug/` with an `index.ts` that
 * exports `step`, and `demo/story.ts` and `demo/bench.ts` for its story and
 * benchmark. Nothing else lists the steps; they are found by folder name (see
 * docs/architecture.md, "Adding a step").
 *
 * @module
 */

import type { Redis } from "ioredis";
import type { JobEvents } from "./events.ts";
import type { JsonValue } from "./jobs/arguments.ts";
import type { JobRegistry } from "./jobs/registry.ts";
import type { Database } from "./postgres/database.ts";
import type { WorkerSettings } from "./worker-settings.ts";

/**
 * What a queue can promise. A step lists the ones it keeps; the contract
 * suite holds it to exactly those, and demonstrates the failure of each one it
 * does not list (where a deterministic demonstration exists).
 */
export const GUARANTEES = {
  everyJobRuns: "Every enqueued job runs, once, with one healthy worker",
  noDuplicatesWithHealthyWorkers: "No job runs twice while several healthy workers share the queue",
  lowLatencyPickup: "A new job is picked up at once, not at the next poll",
  noTransactionWhileRunning: "No database transaction or connection is held while a job runs",
  survivesWorkerCrash: "A job whose worker crashes mid-run is run again, not lost",
  deadWorkersNoticed: "Workers that die are noticed",
  retries: "Failed jobs are retried with backoff, then kept in a dead queue",
  priorities: "Urgent jobs and named queues are served first",
  scheduledJobs: "Jobs can be scheduled for later",
  recovery: "Jobs of dead workers are recovered automatically",
  concurrencyLimits: "At most N jobs of one key run at once; limit 1 runs them in enqueue order",
  rateLimits:
    "At most N jobs of one rate key start per period, the rest held back without spending an attempt",
  recurringJobs:
    "Each tick of a recurring schedule is enqueued exactly once, whatever the number of schedulers",
  batches: "A group of jobs gets exactly one callback when its last job is done",
} as const;

export type Guarantee = keyof typeof GUARANTEES;

/** Where a step keeps its jobs. */
export type Backend = "postgres" | "redis";

/** Everything a step needs to connect: URLs and a namespace of its own. */
export interface OpenOptions {
  /** PostgreSQL connection string (required by `postgres` steps). */
  readonly databaseUrl?: string;
  /** Redis connection string (required by `redis` steps). */
  readonly redisUrl?: string;
  /**
   * The Postgres schema / Redis key prefix. Defaults to `step_<id>`; tests pass
   * one per test file so files can run in parallel.
   */
  readonly namespace?: string;
  /** Most database connections the step's pool opens. */
  readonly poolSize?: number;
}

/** Points in a worker's loop where a test or story can pause it to choose an interleaving. */
export interface WorkerHooks {
  /** A job was chosen, and has not started running yet. */
  afterPick?(jobId: string, workerId: string): Promise<void> | void;
  /** A loop looked at the queue and found nothing; it waits for work next (step 03). */
  afterFindingNothing?(workerId: string): Promise<void> | void;
  /** The worker's listener heard a notification, or (re)connected, and woke its loops (step 03). */
  afterRing?(): void;
}

/**
 * How to run a worker: what every step's worker takes. A step's own settings
 * (a poll interval, heartbeats, a shutdown timeout) come beside these, by the
 * names it declares in {@link Step.workerSettings}.
 */
export interface WorkerOptions {
  /** Jobs this worker may run (the allowlist). Defaults to the workshop jobs. */
  readonly registry?: JobRegistry;
  /** How many jobs it runs at once. */
  readonly concurrency?: number;
  /** A name for logs; defaults to `host:pid` (the host name and the process id). */
  readonly name?: string;
  readonly hooks?: WorkerHooks;
}

/**
 * Values for a step's own worker settings, by the names the step declares
 * (`{ pollIntervalMs: 20, heartbeatIntervalMs: 100 }`). Each is checked
 * against the step's declaration; names a step does not declare are ignored,
 * so the contract suite can start every step with the same short intervals.
 */
export type GivenSettings = Readonly<Record<string, unknown>>;

/**
 * Exponential backoff with jitter: the wait before retry number `n` (after
 * attempt `n` failed) is `min(maxMs, baseMs × 2^(n−1))`, stretched by a
 * random factor between 1 and `1 + jitter`. Steps with retries (07 on) have
 * their defaults; tests and stories pass short ones.
 */
export interface RetryBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
  /** 0 for none; 0.5 spreads each wait over up to 50 % more. */
  readonly jitter: number;
}

/** A job in the dead queue: it failed its last attempt (steps with retries, 07 on). */
export interface FailedJobReport {
  readonly jobId: string;
  readonly name: string;
  readonly arguments: string;
  /** The last attempt's error: `Name: message`. */
  readonly error: string;
  readonly stack: string | null;
  /** How many attempts it had. */
  readonly attempts: number;
  readonly failedAt: Date;
}

/** A job waiting for its time (steps with `scheduledJobs`, 07 on): see {@link StepInstance.scheduledJobs}. */
export interface ScheduledJobReport {
  readonly jobId: string;
  readonly name: string;
  readonly arguments: string;
  /** When it becomes ready: its `runAt`, or the end of its backoff before a retry. */
  readonly dueAt: Date;
  /** Attempts it has had: 0 for a job enqueued for later, more for one waiting for its retry. */
  readonly attempts: number;
}

/**
 * The jobs waiting in one queue for a worker that serves it (see
 * {@link StepInstance.queues}).
 */
export interface QueueReport {
  /**
   * The queue's name: the one given at enqueue (steps with named queues, 07
   * on), or `default`, the one queue of the steps without them.
   */
  readonly queue: string;
  /** Jobs in it that are ready to run now (not scheduled for later). */
  readonly ready: number;
  /**
   * How long the oldest of them has been ready, in milliseconds; `null` when
   * the step cannot tell (an entry damaged by hand, in Redis).
   */
  readonly oldestReadyAgeMs: number | null;
}

/** A worker running in this process. */
export interface Worker {
  readonly id: string;
  /** Stops taking new jobs, waits for the running ones, and resolves when done. */
  stop(): Promise<void>;
}

/**
 * A process a step knows about (steps with heartbeats, 06 on): a worker, or a
 * supervisor of workers, and whether it is considered alive.
 */
export interface ProcessReport {
  /** The step's own id for it (claims point at it). */
  readonly id: string;
  /** `Worker` or `Supervisor`. */
  readonly kind: string;
  readonly name: string;
  readonly pid: number;
  readonly hostname: string;
  /** The id of the supervisor that started it, if one did. */
  readonly supervisorId: string | null;
  /** How long ago it registered. */
  readonly ageMs: number;
  /** How long ago its last heartbeat was. */
  readonly heartbeatAgeMs: number;
  /** How long it may go without a heartbeat before it counts as dead. */
  readonly aliveThresholdMs: number;
  /** Whether its last heartbeat is more recent than its alive threshold. */
  readonly alive: boolean;
}

/**
 * How to run a supervisor (`worker --processes N`), for steps that have one.
 * It takes the step's worker settings too (see {@link GivenSettings}): its
 * own heartbeats, and for steps with recovery the backoff of the jobs it
 * recovers, are set as its workers' are.
 */
export interface SuperviseOptions {
  /** How many worker processes it starts and keeps running. */
  readonly processes: number;
  /** Flags for each worker process's `worker` command (concurrency, intervals), passed on as they are. */
  readonly workerArgs: readonly string[];
  /** Where the supervisor says what it does, and where its workers' output goes. */
  readonly out: Output;
}

/** A running supervisor of worker processes. */
export interface Supervisor {
  readonly id: string;
  /** Sends `signal` to every worker process, waits until all have exited, then deregisters. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Where and when a job runs, for steps that support it. A step that does not
 * refuses these with an error naming the step that adds them, rather than
 * ignoring them (an "urgent" job silently queued last would be worse).
 */
export interface EnqueueOptions {
  /** A named queue (steps with `priorities`); defaults to `"default"`. */
  readonly queue?: string;
  /**
   * Lower runs first (steps with `priorities`). Defaults to 100, as in Que,
   * so there is room on both sides without negative numbers.
   */
  readonly priority?: number;
  /** Not before this moment (steps with `scheduledJobs`). */
  readonly runAt?: Date;
  /**
   * At most `limit` jobs with this `key` run at once (steps with
   * `concurrencyLimits`); the others wait, in enqueue order.
   */
  readonly concurrency?: ConcurrencyLimit;
  /**
   * At most `limit` jobs of rate key `key` start per `periodMs` (steps with
   * `rateLimits`): "10 per second per API token" is
   * `{ key: "token:42", limit: 10, periodMs: 1000 }`.
   */
  readonly rateLimit?: RateLimit;
}

/**
 * A concurrency key and its limit, e.g. `{ key: "account:42", limit: 1 }`:
 * the jobs of one account run one at a time, in the order they were
 * enqueued.
 */
export interface ConcurrencyLimit {
  /** Which jobs share the limit: usually derived from the arguments (`account:${id}`). */
  readonly key: string;
  /** How many of them may run at once, from 1 (one at a time). */
  readonly limit: number;
}

/**
 * The jobs of one concurrency key (see {@link StepInstance.concurrencyKeys}):
 * how many hold a slot, and how many wait for one.
 */
export interface ConcurrencyKeyReport {
  readonly key: string;
  readonly limit: number;
  /** Jobs holding one of the key's slots: running, or ready to run. */
  readonly admitted: number;
  /** Jobs waiting for a slot. */
  readonly blocked: number;
  /** How long the oldest blocked job has waited, in milliseconds; `null` when none waits. */
  readonly oldestBlockedAgeMs: number | null;
}

/** A limit on how many jobs of one key may start per period (see {@link EnqueueOptions.rateLimit}). */
export interface RateLimit {
  /** Which jobs count together: every job enqueued with this key. */
  readonly key: string;
  /** How many of them may start per period: a whole number, at least 1. */
  readonly limit: number;
  /** The period, in whole milliseconds, at least 1. */
  readonly periodMs: number;
}

/** One rate key, as `stats` shows it (see {@link StepInstance.rateLimits}). */
export interface RateLimitReport extends RateLimit {
  /** Its jobs that are ready and not started yet: held back by the limit, or about to start. */
  readonly waiting: number;
  /** How many of its jobs have started in the current period. */
  readonly startedThisPeriod: number;
  /**
   * In how many milliseconds the next of its jobs may start: 0 when the
   * current period has room.
   */
  readonly nextStartInMs: number;
}

/**
 * A job enqueued on a cron schedule, declared in code (steps with
 * `recurringJobs`): `{ name: "nightly-report", cron: "0 3 * * *", timeZone:
 * "Europe/Paris", job: "SendReport", args: {} }`.
 */
export interface RecurringSchedule {
  /** Its key: each tick is stored under (name, tick), so renaming a schedule starts a new one. */
  readonly name: string;
  /** A cron expression: five fields (minute, hour, day, month, weekday), or six with seconds first. */
  readonly cron: string;
  /** The IANA time zone the expression is read in (`Europe/Paris`); UTC unless told. */
  readonly timeZone?: string;
  /** The job each tick enqueues, and its arguments. */
  readonly job: string;
  readonly args?: JsonValue;
  /**
   * Ticks that passed while no scheduler ran: `"skip"` (the default)
   * enqueues only the latest; `{ fillUpTo: n }` enqueues each of them, the
   * latest `n` at most.
   */
  readonly missedTicks?: "skip" | { readonly fillUpTo: number };
}

/** A schedule, with when it last ran and when it runs next (`npm run step NN -- schedules`). */
export interface ScheduleReport {
  readonly schedule: RecurringSchedule;
  /** The latest tick enqueued, by any scheduler, and its job (`null` if its job is gone). */
  readonly last: { readonly tickAt: Date; readonly jobId: string | null } | null;
  /** Its next tick after now; `null` if its expression never matches again. */
  readonly nextTickAt: Date | null;
}

/** What enqueues a step's recurring jobs (steps with `recurringJobs`). */
export interface Scheduler {
  /**
   * What a scheduler does each time it wakes, at `at`: enqueues the ticks
   * due by then that no scheduler has enqueued yet (missed ones as each
   * schedule says), and resolves with the ids of the jobs this call
   * enqueued. A running scheduler calls it with the time by its clock;
   * tests call it with a time of their own.
   */
  tick(at: Date): Promise<readonly string[]>;
  /** Each schedule with its last and next run. */
  list(): Promise<readonly ScheduleReport[]>;
}

/** A job to enqueue. */
export interface NewJob extends EnqueueOptions {
  readonly name: string;
  readonly args?: JsonValue;
}

/**
 * A batch to create (steps with `batches`): the jobs it calls back when it
 * is done. Each callback is a job name, enqueued with the batch's final
 * counts as its arguments (see {@link BatchCallbackArguments}).
 */
export interface NewBatch {
  /** Enqueued once, when every job of the sealed batch has its final outcome. */
  readonly onFinish?: string;
  /** Enqueued once, with `onFinish`, if none of its jobs went to the dead queue. */
  readonly onSuccess?: string;
  /** Enqueued once, when the first of its jobs goes to the dead queue. */
  readonly onDead?: string;
  /**
   * The jobs the callbacks must be among (the allowlist a worker runs);
   * defaults to the workshop jobs. A name not in it is refused at once.
   */
  readonly registry?: JobRegistry;
}

/** What a batch callback job is given: which batch, why, and its counts at that moment. */
export interface BatchCallbackArguments {
  readonly [key: string]: JsonValue;
  readonly batchId: string;
  readonly event: "finish" | "success" | "dead";
  readonly total: number;
  readonly succeeded: number;
  readonly dead: number;
}

/** One batch, as `npm run step NN -- batches` lists it. */
export interface BatchReport {
  readonly id: string;
  /** Jobs added to it. */
  readonly total: number;
  /** Jobs without their final outcome yet (running, waiting, or waiting for a retry). */
  readonly pending: number;
  readonly succeeded: number;
  /** Jobs that went to the dead queue. */
  readonly dead: number;
  /** Whether it was sealed: no job can be added any more, and it completes when `pending` is 0. */
  readonly sealed: boolean;
  /** When its last job got its final outcome (or its seal, if it had none left), if it has. */
  readonly completedAt: Date | null;
  /** The callbacks enqueued so far, e.g. `["onDead", "onFinish"]`. */
  readonly callbacksFired: readonly string[];
}

/**
 * Groups of jobs with a callback when they are done, for steps that have them
 * (`batches`). Create a batch, add jobs to it — in one call or several, also
 * from inside a job of the batch — then seal it: from then on nothing can be
 * added, and the finish of its last job enqueues its callbacks.
 */
export interface Batches {
  /** Creates an open batch and returns its id. */
  create(batch?: NewBatch): Promise<string>;
  /** Stores jobs in the open batch `batchId` (all or nothing) and returns their ids. */
  add(batchId: string, jobs: readonly NewJob[]): Promise<string[]>;
  /** Closes the batch to new jobs; one with no job left to finish completes at once. */
  seal(batchId: string): Promise<void>;
  /** Every batch, oldest first. */
  list(): Promise<readonly BatchReport[]>;
}

/** A step opened against real services. */
export interface StepInstance {
  readonly step: Step;
  /** The schema / key prefix this instance lives in. */
  readonly namespace: string;
  /** Lifecycle events of jobs enqueued and run through this instance. */
  readonly events: JobEvents;
  /**
   * The step's pool, for Postgres steps: stories show query plans and
   * `pg_stat_activity` with it, tests look at rows. The queue's own
   * operations are the methods below.
   */
  readonly database?: Database;
  /** The step's Redis connection (keys under {@link namespace}), for Redis steps. */
  readonly redis?: Redis;
  /**
   * Stores one job and returns its id. Arguments are checked first: that they
   * are JSON (see `serializeArguments`) and, for a workshop job, that they fit
   * its schema (a `JobArgumentsError` otherwise; see `checkJobArguments`).
   */
  enqueue(name: string, args?: JsonValue, options?: EnqueueOptions): Promise<string>;
  /** Stores many jobs in one round trip; all or nothing. */
  enqueueMany(jobs: readonly NewJob[]): Promise<string[]>;
  /** Starts a worker in this process. */
  startWorker(options?: WorkerOptions & GivenSettings): Worker;
  /** How many jobs are in each state, in the step's own words, e.g. `{ pending: 3, finished: 10 }`. */
  counts(): Promise<Readonly<Record<string, number>>>;
  /**
   * The queues that hold ready jobs, by name, each with how many and how long
   * the oldest has waited (`stats` prints them). A job enqueued to a queue no
   * worker serves waits silently; here its queue's oldest job grows old while
   * the others stay young.
   *
   * A method of its own rather than {@link counts} grouped by queue: `counts`
   * is one number per state in the step's own words, read as it is by every
   * test and benchmark, and a queue cuts across states — only a ready job is
   * still waiting for its queue's worker. Required, not optional like
   * {@link processes}: every step has at least one queue in which a job can
   * wait with nobody to take it, so every step answers.
   */
  queues(): Promise<readonly QueueReport[]>;
  /** Adds `count` already-finished jobs, as months of use would (for the history benchmark). */
  fillHistory(count: number): Promise<void>;
  /** Statements (or Redis commands) sent to the server by this instance so far. */
  statementsSent(): number;
  /** Deletes every job of this step and recreates its tables. */
  reset(): Promise<void>;
  /** Closes connections. Stop workers first. */
  close(): Promise<void>;
  /**
   * Optional, for steps that track their processes (heartbeats, 06 on): every
   * registered process and whether it is considered alive. `stats` prints
   * them; the `deadWorkersNoticed` contract reads them.
   */
  processes?(): Promise<readonly ProcessReport[]>;
  /**
   * Optional, for steps with a supervisor: starts one in this process, which
   * starts `processes` worker processes and restarts any that exits
   * unexpectedly (`npm run step NN -- worker --processes N`).
   */
  supervise?(options: SuperviseOptions & GivenSettings): Promise<Supervisor>;
  /**
   * Optional, for steps with a dead queue (`retries`, 07 on): the jobs that
   * failed their last attempt, oldest failure first (`npm run step NN -- failed`).
   */
  failedJobs?(): Promise<readonly FailedJobReport[]>;
  /**
   * Optional, with {@link failedJobs}: puts jobs from the dead queue back to
   * ready, with a fresh set of attempts (`npm run step NN -- retry <id|--all>`).
   * Resolves with the ids it put back; ids not in the dead queue are skipped.
   */
  retryFailedJobs?(which: readonly string[] | "all"): Promise<string[]>;
  /**
   * Optional, with {@link failedJobs}: deletes jobs from the dead queue for
   * good — the ids given, or all — and resolves with the ids it deleted; ids
   * not in the dead queue are skipped, as {@link retryFailedJobs} skips them
   * (the dashboard's "discard").
   */
  discardFailedJobs?(which: readonly string[] | "all"): Promise<string[]>;
  /**
   * Optional, for steps with `scheduledJobs` (07 on): the `limit` jobs due
   * soonest, with when each is due — enqueued for later, or waiting for a
   * retry (the dashboard's "scheduled" table). A page, not the whole set: a
   * backlog of retries can be long.
   */
  scheduledJobs?(limit: number): Promise<readonly ScheduledJobReport[]>;
  /**
   * Optional, for steps with `concurrencyLimits`: the keys that have jobs
   * holding a slot or waiting for one, the most blocked first (`stats`
   * prints them).
   */
  concurrencyKeys?(): Promise<readonly ConcurrencyKeyReport[]>;
  /**
   * Optional, for steps with `rateLimits`: every rate key, with its limit,
   * the jobs waiting for it and when the next may start (`stats` prints them).
   */
  rateLimits?(): Promise<readonly RateLimitReport[]>;
  /**
   * Optional, for steps with `recurringJobs`: a scheduler of `schedules` —
   * the step's own, declared in its code, when not given. Throws an
   * `InputError` naming the schedule if one is invalid (its expression, its
   * time zone, its job or its arguments).
   */
  scheduler?(schedules?: readonly RecurringSchedule[]): Scheduler;
  /**
   * Optional, for steps with `batches`: groups of jobs with a callback when
   * they are done (`npm run step NN -- batches` lists them).
   */
  readonly batches?: Batches;
}

/** Where a supervisor says what it does; the CLI passes the terminal. */
export interface Output {
  /**
   * Prints one line. A line that ends in "…" reports progress ("  round 2:
   * step 05…"): it is shown as the work goes on, and left out where the
   * output is kept (the benchmark report, a lesson's benchmark block).
   */
  line(text?: string): void;
}

/** A lesson: who it is, what it promises, and how to open it. */
export interface Step {
  /** Two digits: `"01"`. */
  readonly id: string;
  /** The folder name without the number: `"naive-poll"`. */
  readonly slug: string;
  /** One line, shown by `npm run step`. */
  readonly title: string;
  /** The id of the step this one improves on, or `null`. */
  readonly buildsOn: string | null;
  readonly backend: Backend;
  /** The guarantees this step keeps; the contract suite enforces exactly these. */
  readonly guarantees: readonly Guarantee[];
  /**
   * What its worker can be tuned with beyond {@link WorkerOptions}: the CLI
   * turns each into a `worker` flag and a line of `worker --help`.
   */
  readonly workerSettings: WorkerSettings;
  open(options: OpenOptions): Promise<StepInstance>;
}

/** The folder name of a step, e.g. `01-naive-poll`. */
export function stepFolder(step: Pick<Step, "id" | "slug">): string {
  return `${step.id}-${step.slug}`;
}

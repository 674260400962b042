/**
 * What this step's worker can be tuned with, beyond what every worker takes
 * (see `lib/worker-settings.ts`): the CLI's `worker` flags and their help
 * lines come from here. The defaults are the constants next to the code
 * that uses them, where the lesson explains them.
 *
 * @module
 */
import type { WorkerOptions } from "../../lib/step.ts";
import {
  identifier,
  milliseconds,
  queueNames,
  retryBackoff,
  type SettingValues,
  type WorkerSettings,
  wholeNumber,
} from "../../lib/worker-settings.ts";
import { DEFAULT_RETRY_BACKOFF } from "./backoff.ts";
import { DEFAULT_DISPATCH_INTERVAL_MS } from "./dispatcher.ts";
import { DEFAULT_QUEUE } from "./enqueue.ts";
import { DEFAULT_ALIVE_THRESHOLD_MS, DEFAULT_HEARTBEAT_INTERVAL_MS } from "./heartbeat.ts";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from "./shutdown.ts";
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_FALLBACK_POLL_INTERVAL_MS,
  DEFAULT_FLUSH_DELAY_MS,
} from "./worker.ts";

export const WORKER_SETTINGS = {
  pollIntervalMs: {
    flag: "poll-interval",
    kind: milliseconds(1, 600_000),
    default: DEFAULT_FALLBACK_POLL_INTERVAL_MS,
    help: "the fallback poll, for a notification that never came",
  },
  heartbeatIntervalMs: {
    flag: "heartbeat-interval",
    kind: milliseconds(1, 3_600_000),
    default: DEFAULT_HEARTBEAT_INTERVAL_MS,
    help: "how often the process says it is alive",
  },
  aliveThresholdMs: {
    flag: "alive-threshold",
    kind: milliseconds(1, 86_400_000),
    default: DEFAULT_ALIVE_THRESHOLD_MS,
    help: "how long without a heartbeat before a process counts as dead",
  },
  supervisorId: {
    flag: "supervisor-id",
    kind: identifier(),
    help: "set by a supervisor on the worker processes it starts",
  },
  queues: {
    flag: "queues",
    kind: queueNames(),
    default: [DEFAULT_QUEUE],
    help: "the named queues it serves, the first listed first",
  },
  jobTimeoutMs: {
    flag: "job-timeout",
    kind: milliseconds(1, 86_400_000),
    help: "how long one attempt may run, for jobs without a timeout of their own (default: none)",
  },
  retryBackoff: {
    flag: "retry-backoff",
    kind: retryBackoff(),
    default: DEFAULT_RETRY_BACKOFF,
    help: "the wait before retry n: min(MAX, BASE × 2^(n−1)) × (1 + JITTER × random)",
  },
  dispatchIntervalMs: {
    flag: "dispatch-interval",
    kind: milliseconds(1, 600_000),
    default: DEFAULT_DISPATCH_INTERVAL_MS,
    help: "how often scheduled jobs that are due are moved to ready, at most",
  },
  shutdownTimeoutMs: {
    flag: "shutdown-timeout",
    kind: milliseconds(0, 3_600_000),
    default: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    help: "on SIGTERM, how long running jobs may finish before they are released to ready",
  },
  batchSize: {
    flag: "batch-size",
    kind: wholeNumber(1, 10_000, { unit: "jobs" }),
    default: DEFAULT_BATCH_SIZE,
    help: "the most jobs one claim takes and one statement finishes; a crash re-runs at most two batches of finished jobs besides the running ones",
  },
  flushDelayMs: {
    flag: "flush-delay",
    kind: milliseconds(0, 10_000),
    default: DEFAULT_FLUSH_DELAY_MS,
    help: "how long a job's outcome waits for others before they are written together",
  },
} satisfies WorkerSettings;

/** This step's settings, typed: each one given, or `undefined` for its default. */
export type StepSettings = SettingValues<typeof WORKER_SETTINGS>;

/** What this step's worker is started with: what every worker takes, and this step's settings. */
export type WorkerStartOptions = WorkerOptions & StepSettings;

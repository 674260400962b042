/**
 * What this step's worker can be tuned with, beyond what every worker takes (see
 * `lib/worker-settings.ts`): the CLI's `worker` flags and their help lines come from here.
 * Step 04 had none: BRPOP waits on the server, and nothing had heartbeats. Reliable fetch
 * brings heartbeats and a reaper, retries and a mover, and a shutdown timeout.
 *
 * @module
 */
import type { WorkerOptions } from "../../lib/step.ts";
import {
  identifier,
  milliseconds,
  retryBackoff,
  type SettingValues,
  type WorkerSettings,
} from "../../lib/worker-settings.ts";
import { DEFAULT_RETRY_BACKOFF } from "./backoff.ts";
import { DEFAULT_ALIVE_THRESHOLD_MS, DEFAULT_HEARTBEAT_INTERVAL_MS } from "./heartbeat.ts";
import { DEFAULT_DISPATCH_INTERVAL_MS } from "./scheduled.ts";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from "./worker.ts";

export const WORKER_SETTINGS = {
  heartbeatIntervalMs: {
    flag: "heartbeat-interval",
    kind: milliseconds(1, 3_600_000),
    default: DEFAULT_HEARTBEAT_INTERVAL_MS,
    help: "how often the process sets its heartbeat key again (and reaps dead processes)",
  },
  aliveThresholdMs: {
    flag: "alive-threshold",
    kind: milliseconds(1, 86_400_000),
    default: DEFAULT_ALIVE_THRESHOLD_MS,
    help: "the heartbeat key's expiry: how long without a beat before the process counts as dead",
  },
  supervisorId: {
    flag: "supervisor-id",
    kind: identifier(),
    help: "set by a supervisor on the worker processes it starts",
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
    help: "how often jobs due later (scheduled, or retries) are moved to the queue, at most",
  },
  shutdownTimeoutMs: {
    flag: "shutdown-timeout",
    kind: milliseconds(0, 3_600_000),
    default: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    help: "on SIGTERM, how long running jobs may finish before they are handed back to the queue",
  },
} satisfies WorkerSettings;

/** This step's settings, typed: each one given, or `undefined` for its default. */
export type StepSettings = SettingValues<typeof WORKER_SETTINGS>;

/** What this step's worker is started with: what every worker takes, and this step's settings. */
export type WorkerStartOptions = WorkerOptions & StepSettings;

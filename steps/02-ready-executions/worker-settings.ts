// Unchanged from step 01: steps/01-naive-poll/worker-settings.ts
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
  milliseconds,
  type SettingValues,
  type WorkerSettings,
} from "../../lib/worker-settings.ts";
import { DEFAULT_POLL_INTERVAL_MS } from "./worker.ts";

export const WORKER_SETTINGS = {
  pollIntervalMs: {
    flag: "poll-interval",
    kind: milliseconds(1, 600_000),
    default: DEFAULT_POLL_INTERVAL_MS,
    help: "how long a slot sleeps after a poll that found nothing",
  },
} satisfies WorkerSettings;

/** This step's settings, typed: each one given, or `undefined` for its default. */
export type StepSettings = SettingValues<typeof WORKER_SETTINGS>;

/** What this step's worker is started with: what every worker takes, and this step's settings. */
export type WorkerStartOptions = WorkerOptions & StepSettings;

/**
 * What this step's worker can be tuned with, beyond what every worker takes
 * (see `lib/worker-settings.ts`): nothing. `BRPOP` waits for a job on the
 * server, so there is no poll to time, and nothing here has heartbeats.
 *
 * @module
 */
import type { WorkerSettings } from "../../lib/worker-settings.ts";

export const WORKER_SETTINGS = {} satisfies WorkerSettings;

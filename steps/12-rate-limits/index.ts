/**
 * Step 12 — rate limits: at most N jobs of one rate key start per period,
 * checked inside the claim, atomically across every worker and process. A
 * job over the limit is simply not claimed yet: no attempt spent, no retry,
 * nothing logged; the worker sleeps until the next start is allowed.
 *
 * @module
 */
import { assembleInstance } from "../../lib/instance.ts";
import { openStepDatabase } from "../../lib/postgres/step-database.ts";
import type { Step } from "../../lib/step.ts";
import { readSettings } from "../../lib/worker-settings.ts";
import { countJobs, countReadyByQueue, insertFinishedJobs } from "./counts.ts";
import { insertJobs } from "./enqueue.ts";
import { discardFailedJobs, listFailedJobs, retryFailedJobs } from "./failed-executions.ts";
import { listProcesses, refuseWhileAlive } from "./processes.ts";
import { listRateLimits } from "./rate-limits.ts";
import { listScheduledJobs } from "./scheduled-executions.ts";
import { startSupervisor } from "./supervisor.ts";
import { startClaimingWorker } from "./worker.ts";
import { WORKER_SETTINGS } from "./worker-settings.ts";

export const step: Step = {
  id: "12",
  slug: "rate-limits",
  title: "Rate limits: at most N starts per period per key, checked in the claim",
  buildsOn: "08",
  backend: "postgres",
  // Step 08's ten, and now: a job enqueued with a rate limit starts only when
  // its key's window has room, and waits without an attempt spent
  // (rate-limits.test.ts).
  guarantees: [
    "everyJobRuns",
    "noDuplicatesWithHealthyWorkers",
    "lowLatencyPickup",
    "noTransactionWhileRunning",
    "deadWorkersNoticed",
    "retries",
    "priorities",
    "scheduledJobs",
    "survivesWorkerCrash",
    "recovery",
    "rateLimits",
  ],
  workerSettings: WORKER_SETTINGS,

  async open(options) {
    const { database, recreate } = await openStepDatabase(
      step,
      options,
      new URL("./schema.sql", import.meta.url),
    );
    if (!options.databaseUrl) throw new Error("Step 12 needs databaseUrl.");
    // Statements of the workers' listening connections (LISTEN), which are
    // not sent through the pool.
    let listenerStatements = 0;
    const listening = {
      databaseUrl: options.databaseUrl,
      onStatement: () => {
        listenerStatements++;
      },
    };
    return assembleInstance({
      step: step,
      namespace: database.schema,
      database,
      insertJobs: (jobs) => database.transaction((tx) => insertJobs(tx, jobs)),
      startWorker: (events, workerOptions) =>
        startClaimingWorker(database, listening, events, {
          ...workerOptions,
          ...readSettings(WORKER_SETTINGS, workerOptions),
        }),
      counts: () => countJobs(database),
      queues: () => countReadyByQueue(database),
      fillHistory: (count) => insertFinishedJobs(database, count),
      statementsSent: () => database.statementsSent + listenerStatements,
      // Not while a worker runs on these tables (see LiveProcessesError).
      reset: async () => {
        await refuseWhileAlive(database);
        await recreate();
      },
      close: () => database.close(),
      processes: () => listProcesses(database),
      supervise: (supervisorOptions) =>
        startSupervisor(database, step.id, {
          ...supervisorOptions,
          ...readSettings(WORKER_SETTINGS, supervisorOptions),
        }),
      failedJobs: () => listFailedJobs(database),
      retryFailedJobs: (which) => retryFailedJobs(database, which),
      discardFailedJobs: (which) => discardFailedJobs(database, which),
      scheduledJobs: (limit) => listScheduledJobs(database, limit),
      rateLimits: () => listRateLimits(database),
    });
  },
};

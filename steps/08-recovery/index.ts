/**
 * Step 08 — recovery: the jobs of dead processes go back through the retry
 * path (the interrupted attempt counted), a late finish by a process taken
 * for dead changes nothing, and a stopping worker releases what outlives its
 * shutdown timeout. At-least-once delivery.
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
import { listScheduledJobs } from "./scheduled-executions.ts";
import { startSupervisor } from "./supervisor.ts";
import { startClaimingWorker } from "./worker.ts";
import { WORKER_SETTINGS } from "./worker-settings.ts";

export const step: Step = {
  id: "08",
  slug: "recovery",
  title: "Recovery: dead workers' jobs retried, graceful shutdown, at-least-once",
  buildsOn: "07",
  backend: "postgres",
  // Step 07's eight, and now: a job whose worker is killed mid-run runs again
  // (worker-crash.test.ts), and the jobs of dead workers are recovered
  // through the retry path, so a job that kills every worker ends in the
  // dead queue (recovery.test.ts).
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
  ],
  workerSettings: WORKER_SETTINGS,

  async open(options) {
    const { database, recreate } = await openStepDatabase(
      step,
      options,
      new URL("./schema.sql", import.meta.url),
    );
    if (!options.databaseUrl) throw new Error("Step 08 needs databaseUrl.");
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
    });
  },
};

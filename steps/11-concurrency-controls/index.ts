/**
 * Step 11 — concurrency controls: a job enqueued with a concurrency key and
 * a limit runs only while fewer than `limit` jobs of its key hold a slot;
 * the others wait in blocked_executions, and the transaction that frees a
 * slot admits the oldest of them. Limit 1: the key's jobs run one at a
 * time, in enqueue order. Built on step 08.
 *
 * @module
 */
import { assembleInstance } from "../../lib/instance.ts";
import { openStepDatabase } from "../../lib/postgres/step-database.ts";
import type { Step } from "../../lib/step.ts";
import { readSettings } from "../../lib/worker-settings.ts";
import { listConcurrencyKeys } from "./concurrency.ts";
import { countJobs, countReadyByQueue, insertFinishedJobs } from "./counts.ts";
import { insertJobs } from "./enqueue.ts";
import { discardFailedJobs, listFailedJobs, retryFailedJobs } from "./failed-executions.ts";
import { listProcesses, refuseWhileAlive } from "./processes.ts";
import { listScheduledJobs } from "./scheduled-executions.ts";
import { startSupervisor } from "./supervisor.ts";
import { startClaimingWorker } from "./worker.ts";
import { WORKER_SETTINGS } from "./worker-settings.ts";

export const step: Step = {
  id: "11",
  slug: "concurrency-controls",
  title: "Concurrency controls: at most N jobs of one key at once; limit 1 runs them in order",
  buildsOn: "08",
  backend: "postgres",
  // Step 08's ten, and a limit per concurrency key
  // (concurrency-limits.test.ts).
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
    "concurrencyLimits",
  ],
  workerSettings: WORKER_SETTINGS,

  async open(options) {
    const { database, recreate } = await openStepDatabase(
      step,
      options,
      new URL("./schema.sql", import.meta.url),
    );
    if (!options.databaseUrl) throw new Error("Step 11 needs databaseUrl.");
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
      concurrencyKeys: () => listConcurrencyKeys(database),
    });
  },
};

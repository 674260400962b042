/**
 * Step 07 — retries and priorities: failed jobs are retried with exponential
 * backoff and jitter, then kept in a dead queue; jobs can be scheduled for
 * later, and a dispatcher makes them ready when due; named queues and
 * priorities decide the claim order; an attempt can time out.
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
  id: "07",
  slug: "retries-priorities",
  title: "Retries and priorities: backoff, a dead queue, scheduled jobs, named queues",
  buildsOn: "06",
  backend: "postgres",
  // Step 06's five, and now: failed jobs are retried with backoff and end in
  // a dead queue (retries.test.ts), urgent jobs and named queues are served
  // first (priorities.test.ts), jobs can be scheduled for later
  // (scheduled-jobs.test.ts). Still not kept: a dead worker's claimed jobs
  // stay claimed (worker-crash.test.ts demonstrates it; step 08 recovers them).
  guarantees: [
    "everyJobRuns",
    "noDuplicatesWithHealthyWorkers",
    "lowLatencyPickup",
    "noTransactionWhileRunning",
    "deadWorkersNoticed",
    "retries",
    "priorities",
    "scheduledJobs",
  ],
  workerSettings: WORKER_SETTINGS,

  async open(options) {
    const { database, recreate } = await openStepDatabase(
      step,
      options,
      new URL("./schema.sql", import.meta.url),
    );
    if (!options.databaseUrl) throw new Error("Step 07 needs databaseUrl.");
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

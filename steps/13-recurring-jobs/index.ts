/**
 * Step 13 — recurring jobs: schedules declared in code, a scheduler in every
 * supervisor, and each tick enqueued once, by a unique (schedule, tick) key
 * written in the job's own transaction. Built on step 08, whose guarantees
 * it keeps.
 *
 * @module
 */
import { assembleInstance } from "../../lib/instance.ts";
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import { openStepDatabase } from "../../lib/postgres/step-database.ts";
import type { Step } from "../../lib/step.ts";
import { readSettings } from "../../lib/worker-settings.ts";
import { countJobs, countReadyByQueue, insertFinishedJobs } from "./counts.ts";
import { insertJobs } from "./enqueue.ts";
import { discardFailedJobs, listFailedJobs, retryFailedJobs } from "./failed-executions.ts";
import { listProcesses, refuseWhileAlive } from "./processes.ts";
import { listScheduledJobs } from "./scheduled-executions.ts";
import { TickingScheduler } from "./scheduler.ts";
import { SCHEDULES } from "./schedules.ts";
import { startSupervisor } from "./supervisor.ts";
import { startClaimingWorker } from "./worker.ts";
import { WORKER_SETTINGS } from "./worker-settings.ts";

export const step: Step = {
  id: "13",
  slug: "recurring-jobs",
  title:
    "Recurring jobs: cron schedules in code, each tick enqueued once by any number of schedulers",
  buildsOn: "08",
  backend: "postgres",
  // Step 08's ten, and now: each tick of a schedule is enqueued exactly
  // once, whatever the number of schedulers (recurring-jobs.test.ts).
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
    "recurringJobs",
  ],
  workerSettings: WORKER_SETTINGS,

  async open(options) {
    const { database, recreate } = await openStepDatabase(
      step,
      options,
      new URL("./schema.sql", import.meta.url),
    );
    if (!options.databaseUrl) throw new Error("Step 13 needs databaseUrl.");
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
      // The workshop's schedules unless told; their jobs are checked
      // against the workshop's registry, the one a worker runs by default.
      scheduler: (schedules = SCHEDULES) =>
        new TickingScheduler(database, schedules, { registry: workshopJobs() }),
    });
  },
};

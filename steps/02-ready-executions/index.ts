/**
 * Step 02 — ready executions: a small table of runnable jobs, taken with
 * `FOR UPDATE SKIP LOCKED`, so the poll stays cheap and several workers can
 * share the queue.
 *
 * @module
 */
import { assembleInstance } from "../../lib/instance.ts";
import { openStepDatabase } from "../../lib/postgres/step-database.ts";
import type { Step } from "../../lib/step.ts";
import { readSettings } from "../../lib/worker-settings.ts";
import { countJobs, insertFinishedJobs } from "./counts.ts";
import { insertJobs } from "./enqueue.ts";
import { startPollingWorker } from "./worker.ts";
import { WORKER_SETTINGS } from "./worker-settings.ts";

export const step: Step = {
  id: "02",
  slug: "ready-executions",
  title: "Ready executions: a small table of runnable jobs, taken with SKIP LOCKED",
  buildsOn: "01",
  backend: "postgres",
  // Every job runs once, with one worker or several (SKIP LOCKED), and a
  // worker killed mid-job loses nothing: its transaction rolls back and the
  // ready row comes back. Not kept: pickup still waits for the poll, an idle
  // worker keeps querying, a running job holds a transaction open. The
  // contract suite enforces the first three and demonstrates the rest.
  guarantees: ["everyJobRuns", "noDuplicatesWithHealthyWorkers", "survivesWorkerCrash"],
  workerSettings: WORKER_SETTINGS,

  async open(options) {
    const { database, recreate } = await openStepDatabase(
      step,
      options,
      new URL("./schema.sql", import.meta.url),
    );
    return assembleInstance({
      step: step,
      namespace: database.schema,
      database,
      insertJobs: (jobs) => database.transaction((tx) => insertJobs(tx, jobs)),
      startWorker: (events, workerOptions) =>
        startPollingWorker(database, events, {
          ...workerOptions,
          ...readSettings(WORKER_SETTINGS, workerOptions),
        }),
      counts: () => countJobs(database),
      fillHistory: (count) => insertFinishedJobs(database, count),
      statementsSent: () => database.statementsSent,
      reset: recreate,
      close: () => database.close(),
    });
  },
};

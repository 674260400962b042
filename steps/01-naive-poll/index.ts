/**
 * Step 01 — the naive poll: one `jobs` table, a worker that polls it every
 * 100 ms and runs each job inside a transaction. The talk's first SimpleJob.
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
  id: "01",
  slug: "naive-poll",
  title: "Naive poll: one jobs table, polled every 100 ms",
  buildsOn: null,
  backend: "postgres",
  // With one worker every job runs once, and a worker killed mid-job loses
  // nothing: its transaction never committed, so the job is still waiting.
  // Not kept: two workers run the same job (nothing locks it), pickup waits
  // for the poll, a running job holds a transaction open. The contract suite
  // enforces the first two and demonstrates the rest.
  guarantees: ["everyJobRuns", "survivesWorkerCrash"],
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
      insertJobs: (jobs) => insertJobs(database, jobs),
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

/**
 * Step 03 — LISTEN/NOTIFY: enqueue notifies in its transaction, workers
 * listen on a connection of their own and take the job at once, with a slow
 * fallback poll for anything missed.
 *
 * @module
 */
import { assembleInstance } from "../../lib/instance.ts";
import { openStepDatabase } from "../../lib/postgres/step-database.ts";
import type { Step } from "../../lib/step.ts";
import { readSettings } from "../../lib/worker-settings.ts";
import { countJobs, insertFinishedJobs } from "./counts.ts";
import { insertJobs } from "./enqueue.ts";
import { startListeningWorker } from "./worker.ts";
import { WORKER_SETTINGS } from "./worker-settings.ts";

export const step: Step = {
  id: "03",
  slug: "listen-notify",
  title: "LISTEN/NOTIFY: workers are woken by the enqueue, with a slow fallback poll",
  buildsOn: "02",
  backend: "postgres",
  // Step 02's three, and now a new job is picked up at once: the contract
  // suite enforces all four. Not kept: a running job still holds a
  // transaction open (demonstrated by the suite; step 05 fixes it).
  guarantees: [
    "everyJobRuns",
    "noDuplicatesWithHealthyWorkers",
    "survivesWorkerCrash",
    "lowLatencyPickup",
  ],
  workerSettings: WORKER_SETTINGS,

  async open(options) {
    const { database, recreate } = await openStepDatabase(
      step,
      options,
      new URL("./schema.sql", import.meta.url),
    );
    if (!options.databaseUrl) throw new Error("Step 03 needs databaseUrl.");
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
        startListeningWorker(database, listening, events, {
          ...workerOptions,
          ...readSettings(WORKER_SETTINGS, workerOptions),
        }),
      counts: () => countJobs(database),
      fillHistory: (count) => insertFinishedJobs(database, count),
      statementsSent: () => database.statementsSent + listenerStatements,
      reset: recreate,
      close: () => database.close(),
    });
  },
};

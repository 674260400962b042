/**
 * Step 05 — claims: a worker claims jobs in one short transaction (ready →
 * claimed), runs them outside any transaction, and finishes each in another;
 * it claims as many as it has free slots.
 *
 * @module
 */
import { assembleInstance } from "../../lib/instance.ts";
import { openStepDatabase } from "../../lib/postgres/step-database.ts";
import type { Step } from "../../lib/step.ts";
import { readSettings } from "../../lib/worker-settings.ts";
import { countJobs, insertFinishedJobs } from "./counts.ts";
import { insertJobs } from "./enqueue.ts";
import { startClaimingWorker } from "./worker.ts";
import { WORKER_SETTINGS } from "./worker-settings.ts";

export const step: Step = {
  id: "05",
  slug: "claims",
  title: "Claims: short transactions, jobs run outside them, N slots per worker",
  buildsOn: "03",
  backend: "postgres",
  // Now no transaction is open while a job runs. Given up for it: surviving a
  // worker crash. In step 03 the open transaction rolled back when its worker
  // died, and the job was ready again; a claim is committed, so a dead
  // worker's claims stay behind for ever (the suite demonstrates it with a
  // real SIGKILL; steps 06–08 notice and recover them).
  guarantees: [
    "everyJobRuns",
    "noDuplicatesWithHealthyWorkers",
    "lowLatencyPickup",
    "noTransactionWhileRunning",
  ],
  workerSettings: WORKER_SETTINGS,

  async open(options) {
    const { database, recreate } = await openStepDatabase(
      step,
      options,
      new URL("./schema.sql", import.meta.url),
    );
    if (!options.databaseUrl) throw new Error("Step 05 needs databaseUrl.");
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
      fillHistory: (count) => insertFinishedJobs(database, count),
      statementsSent: () => database.statementsSent + listenerStatements,
      reset: recreate,
      close: () => database.close(),
    });
  },
};

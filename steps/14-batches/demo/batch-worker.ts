/**
 * A step 14 worker process that runs the batch jobs of `batch-jobs.ts`,
 * which the CLI's `worker` (the workshop's jobs only) cannot: the story and
 * the tests start three of these, and kill some with SIGKILL.
 *
 * `node --import tsx steps/14-batches/demo/batch-worker.ts 14 worker
 * --namespace NAME [--concurrency N]` (the CLI's arguments, as
 * `WorkerProcessOptions.script` passes them), against the database the CLI
 * would use. Heartbeats, retries and the dispatcher run on short intervals,
 * so that a killed worker's jobs come back within seconds; it prints what the CLI's worker prints, and a line
 * for each callback it runs.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runWorkerCommand } from "../../../lib/workshop/cli/commands/worker.ts";
import { openStep } from "../../../lib/workshop/cli/connect.ts";
import { runMain } from "../../../lib/workshop/cli/run-main.ts";
import { step } from "../index.ts";
import { batchJobs } from "./batch-jobs.ts";

/** Intervals of a worker that recovers within seconds: a demonstration's, not production's. */
const QUICK_SETTINGS = {
  heartbeatIntervalMs: 200,
  aliveThresholdMs: 2_000,
  dispatchIntervalMs: 50,
  retryBackoff: { baseMs: 50, maxMs: 500, jitter: 0 },
} as const;

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    // After `14 worker`, which the CLI would read and this script is for.
    args: argv.slice(2),
    options: { namespace: { type: "string" }, concurrency: { type: "string" } },
    strict: true,
  });
  const instance = await openStep(step, {}, { namespace: values.namespace });
  const registry = batchJobs(instance, (name, args) =>
    console.log(
      `★ ${name}: batch ${args.batchId} (${args.event}): ${args.total} jobs, ${args.succeeded} succeeded, ${args.dead} dead`,
    ),
  );
  await runWorkerCommand(instance, {
    registry,
    concurrency: Number(values.concurrency ?? 1),
    ...QUICK_SETTINGS,
  });
  return 0;
}

runMain(() => main(process.argv.slice(2)));

/**
 * A worker process for tests, started like the CLI's (`NN worker --namespace
 * NAME [worker flags]`, see `spawnWorker`), whose one job, `LoggedRun`, logs
 * its start and end in the step's `runs` table (run-log.ts). It runs
 * through the CLI's worker command, so it stops on SIGTERM as `npm run step
 * NN -- worker` does, and prints the same `▶ job` lines.
 *
 * @module
 */
import { JobRegistry } from "../../lib/jobs/registry.ts";
import { runWorkerCommand } from "../../lib/workshop/cli/commands/worker.ts";
import { integerFlag, parseFlags } from "../../lib/workshop/cli/parse.ts";
import { readWorkerSettings, workerFlagSpec } from "../../lib/workshop/cli/worker-flags.ts";
import { findStep, loadSteps } from "../../lib/workshop/step-directory.ts";
import { createRunLog, loggedRunJob } from "./run-log.ts";

const [stepId = "", , ...args] = process.argv.slice(2);
const step = findStep(await loadSteps(), stepId);
if (step === undefined) throw new Error(`No step ${stepId}.`);
const usage = "recording-worker.ts NN worker --namespace NAME [worker flags]";
const parsed = parseFlags(args, workerFlagSpec(step), usage, 0);
const namespace = parsed.flags.namespace;
if (typeof namespace !== "string") throw new Error("--namespace is required.");
const instance = await step.open({ databaseUrl: process.env.DATABASE_URL, namespace });
if (!instance.database) throw new Error(`Step ${step.id} has no database to log runs in.`);
await createRunLog(instance.database);
await runWorkerCommand(instance, {
  ...readWorkerSettings(step, parsed, usage),
  concurrency: integerFlag(parsed, "concurrency", usage, 1, 1000),
  registry: new JobRegistry([loggedRunJob(instance.database)]),
});

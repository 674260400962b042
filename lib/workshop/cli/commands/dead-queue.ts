/**
 * `npm run step NN -- failed` and `-- retry <id…|--all>`: the dead queue, for
 * steps that have one (`retries`, 07 on).
 *
 * @module
 */

import { InputError } from "../../../input-error.ts";
import type { JsonValue } from "../../../jobs/arguments.ts";
import type { FailedJobReport, Step, StepInstance } from "../../../step.ts";
import { renderTable } from "../../format.ts";

/** A step without a dead queue: say what happens to its failed jobs instead. */
export class NoDeadQueueError extends InputError {
  override name = "NoDeadQueueError";
  constructor(stepId: string) {
    super(
      `Step ${stepId} has no dead queue: a job that fails is recorded as failed and never runs again (step 07 adds retries and a dead queue). See npm run step ${stepId} -- stats.`,
    );
  }
}

/**
 * Refuses `failed` and `retry` on a step without a dead queue, before the
 * step is opened (opening creates its schema: a refused command must change
 * nothing). Read from the guarantees, as `checkEnqueueOptions` reads what a
 * step supports: the dead queue comes with `retries` (07 on).
 */
export function requireDeadQueue(step: Step): void {
  if (!step.guarantees.includes("retries")) throw new NoDeadQueueError(step.id);
}

/** Lists the dead queue, oldest failure first; with `stacks`, each job's stack under it. */
export async function runFailedCommand(
  instance: StepInstance,
  options: { readonly json: boolean; readonly stacks: boolean },
): Promise<void> {
  if (!instance.failedJobs) throw new NoDeadQueueError(instance.step.id);
  const jobs = await instance.failedJobs();
  if (options.json) {
    console.log(JSON.stringify(jobs.map(asJson)));
    return;
  }
  if (jobs.length === 0) {
    console.log(`The dead queue of step ${instance.step.id} is empty (${instance.namespace}).`);
    return;
  }
  const rows = jobs.map((job) => [
    job.jobId,
    job.name,
    job.arguments,
    String(job.attempts),
    job.failedAt.toISOString(),
    job.error,
  ]);
  const lines = renderTable(["job", "name", "arguments", "attempts", "failed at", "error"], rows);
  console.log(lines.slice(0, 2).join("\n"));
  for (const [index, job] of jobs.entries()) {
    console.log(lines[index + 2]);
    if (options.stacks && job.stack) console.log(indent(job.stack));
  }
  console.log(
    `\n${jobs.length} job(s). Put them back with: npm run step ${instance.step.id} -- retry <id…> (or --all)`,
  );
}

/**
 * A dead job for `--json`: its arguments as the JSON value they are, not the
 * text they are stored as — a string of JSON inside JSON makes every reader
 * parse twice. Arguments damaged in the database are not JSON; those stay
 * text, under `unreadableArguments` instead, so `arguments` is always JSON
 * and nothing is hidden.
 */
function asJson(job: FailedJobReport) {
  const { arguments: text, ...rest } = job;
  try {
    return { ...rest, arguments: JSON.parse(text) as JsonValue };
  } catch {
    return { ...rest, unreadableArguments: text };
  }
}

/** Puts jobs from the dead queue back to ready and says which. */
export async function runRetryCommand(
  instance: StepInstance,
  which: readonly string[] | "all",
): Promise<void> {
  if (!instance.retryFailedJobs) throw new NoDeadQueueError(instance.step.id);
  const retried = await instance.retryFailedJobs(which);
  const skipped = which === "all" ? [] : which.filter((id) => !retried.includes(id));
  console.log(
    retried.length === 0
      ? "No job was put back."
      : `Put back to ready, with a fresh set of attempts: ${retried.join(", ")}`,
  );
  if (skipped.length > 0) {
    console.log(
      `Not in the dead queue (finished, already retried, or unknown): ${skipped.join(", ")}`,
    );
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `      ${line}`)
    .join("\n");
}

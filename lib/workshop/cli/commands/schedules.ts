/**
 * `npm run step NN -- schedules [--json]`: the step's recurring schedules,
 * each with its last and next run, for steps that have them
 * (`recurringJobs`).
 *
 * @module
 */

import { InputError } from "../../../input-error.ts";
import type { ScheduleReport, Step, StepInstance } from "../../../step.ts";
import { renderTable } from "../../format.ts";

/** A step without recurring jobs: say which step adds them. */
export class NoSchedulesError extends InputError {
  override name = "NoSchedulesError";
  constructor(stepId: string) {
    super(
      `Step ${stepId} has no recurring jobs: nothing enqueues a job on a schedule (step 13 adds cron schedules).`,
    );
  }
}

/**
 * Refuses `schedules` on a step without recurring jobs, before the step is
 * opened (opening creates its schema: a refused command must change
 * nothing). Read from the guarantees, as `requireDeadQueue` is.
 */
export function requireSchedules(step: Step): void {
  if (!step.guarantees.includes("recurringJobs")) throw new NoSchedulesError(step.id);
}

/** Prints each schedule with its expression, job, last tick (and its job) and next tick. */
export async function runSchedulesCommand(instance: StepInstance, json: boolean): Promise<void> {
  if (!instance.scheduler) throw new NoSchedulesError(instance.step.id);
  const reports = await instance.scheduler().list();
  if (json) {
    console.log(JSON.stringify(reports));
    return;
  }
  if (reports.length === 0) {
    console.log(`Step ${instance.step.id} declares no schedules.`);
    return;
  }
  console.log(`Step ${instance.step.id} (${instance.namespace}): schedules declared in code`);
  for (const line of renderTable(
    ["schedule", "cron", "time zone", "job", "missed ticks", "last tick", "its job", "next tick"],
    reports.map(row),
  ))
    console.log(line);
}

function row({ schedule, last, nextTickAt }: ScheduleReport): string[] {
  const missed = schedule.missedTicks ?? "skip";
  return [
    schedule.name,
    schedule.cron,
    schedule.timeZone ?? "UTC",
    `${schedule.job} ${JSON.stringify(schedule.args ?? {})}`,
    missed === "skip" ? "skip" : `fill up to ${missed.fillUpTo}`,
    last === null ? "never" : last.tickAt.toISOString(),
    last?.jobId ?? "",
    nextTickAt === null ? "never" : nextTickAt.toISOString(),
  ];
}

/**
 * Jobs that run as long as the test says: a job to hold a worker's slot (or
 * its transaction, or its claim) at a moment the test chooses.
 *
 * @module
 */
import { defineJob, type JobDefinition } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import { gate } from "./waiting.ts";

export interface WaitingJob {
  /** `name`, whose every run waits until `release` opens. */
  readonly definition: JobDefinition;
  /** A registry holding only that job. */
  readonly registry: JobRegistry;
  readonly release: ReturnType<typeof gate>;
}

/** A job (default name `Slow`) that returns when the test calls `release.open()`. */
export function waitingJob(name = "Slow"): WaitingJob {
  const release = gate();
  const definition = defineJob({
    name,
    description: "waits for the test",
    exampleArguments: {},
    perform: () => release.opened,
  });
  return { definition, registry: new JobRegistry([definition]), release };
}

/** A job (default name `Quick`) that returns at once. */
export function quickJob(name = "Quick"): JobDefinition {
  return defineJob({ name, description: "returns", exampleArguments: {}, perform() {} });
}

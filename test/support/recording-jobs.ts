/**
 * Jobs the contract suite runs: they record what they were given, or throw.
 *
 * @module
 */
import type { JsonValue } from "../../lib/jobs/arguments.ts";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";

export interface RecordingJobs {
  readonly registry: JobRegistry;
  /** Every run of `Record`, in order: which job, with which arguments. */
  readonly received: { jobId: string; args: JsonValue }[];
}

/** `Record` remembers its arguments; `Explode` throws `message`; `Sleep` returns at once. */
export function recordingJobs(): RecordingJobs {
  const received: { jobId: string; args: JsonValue }[] = [];
  const registry = new JobRegistry([
    defineJob<JsonValue>({
      name: "Record",
      description: "remembers its arguments",
      exampleArguments: {},
      perform(args, { jobId }) {
        received.push({ jobId, args });
      },
    }),
    defineJob<{ message: string }>({
      name: "Explode",
      description: "throws",
      exampleArguments: { message: "boom" },
      // Never retried (steps with retries, 07 on): its first failure is its
      // last, so "a job that throws is recorded as failed" means the same in
      // every step. Retries have a contract of their own (retries.test.ts).
      maxAttempts: 1,
      perform({ message }) {
        throw new Error(message);
      },
    }),
    // The workshop's Sleep under the same name, without the sleep: a job a
    // crashed worker left behind can be finished quickly by a healthy one.
    defineJob<{ ms: number }>({
      name: "Sleep",
      description: "returns at once",
      exampleArguments: { ms: 0 },
      perform() {},
    }),
  ]);
  return { registry, received };
}

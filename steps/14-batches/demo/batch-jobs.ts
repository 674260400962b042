/**
 * The jobs of step 14's story, tests and benchmark: members of a batch that
 * succeed, fail once and then succeed, fail for good, or add more members to
 * their own batch; and callbacks that say what they were told.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineJob } from "../../../lib/jobs/job.ts";
import { JobRegistry } from "../../../lib/jobs/registry.ts";
import type { BatchCallbackArguments, StepInstance } from "../../../lib/step.ts";

/** The names of the batch callbacks, as `batches.create` takes them. */
export const CALLBACKS = {
  onFinish: "BatchFinished",
  onSuccess: "BatchSucceeded",
  onDead: "BatchDead",
} as const;

const work = z.strictObject({ ms: z.int().min(0).max(60_000) });

/**
 * The jobs, for a worker of `instance` (`FanOut` adds to a batch through
 * it); each callback calls `onCallback` when it runs.
 */
export function batchJobs(
  instance: StepInstance,
  onCallback: (name: string, args: BatchCallbackArguments) => void = () => {},
): JobRegistry {
  const callback = (name: string) =>
    defineJob<BatchCallbackArguments>({
      name,
      description: "a batch callback: says which batch, why, and its counts",
      exampleArguments: { batchId: "1", event: "finish", total: 0, succeeded: 0, dead: 0 },
      perform: (args) => onCallback(name, args),
    });
  return new JobRegistry([
    defineJob({
      name: "Member",
      description: "works for `ms`, then succeeds",
      arguments: work,
      exampleArguments: { ms: 50 },
      perform: ({ ms }) => sleep(ms),
    }),
    defineJob({
      name: "FailsOnce",
      description: "fails its first attempt, succeeds the next",
      arguments: work,
      exampleArguments: { ms: 50 },
      maxAttempts: 3,
      async perform({ ms }, { attempt }) {
        await sleep(ms);
        if (attempt === 1) throw new Error("the partner's API timed out (first attempt)");
      },
    }),
    defineJob({
      name: "Doomed",
      description: "fails every attempt: ends in the dead queue",
      arguments: work,
      exampleArguments: { ms: 50 },
      maxAttempts: 2,
      async perform({ ms }) {
        await sleep(ms);
        throw new Error("the record it was for is gone");
      },
    }),
    defineJob({
      name: "FanOut",
      description: "adds `children` Members to its own batch (before the batch is sealed)",
      arguments: z.strictObject({
        batchId: z.string(),
        children: z.int().min(1).max(1_000),
        ms: z.int().min(0).max(60_000),
      }),
      exampleArguments: { batchId: "1", children: 3, ms: 50 },
      async perform({ batchId, children, ms }) {
        if (!instance.batches) throw new Error(`Step ${instance.step.id} has no batches.`);
        await sleep(ms);
        await instance.batches.add(
          batchId,
          Array.from({ length: children }, () => ({ name: "Member", args: { ms } })),
        );
      },
    }),
    callback(CALLBACKS.onFinish),
    callback(CALLBACKS.onSuccess),
    callback(CALLBACKS.onDead),
  ]);
}

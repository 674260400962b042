/**
 * The contract suite, every step: `queues()` says where ready jobs wait — how many in each
 * queue, and how long the oldest has waited — so a job put in a queue no worker serves shows,
 * instead of waiting silently.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Step, StepInstance } from "../../lib/step.ts";
import { RunTracker } from "../../lib/workshop/bench/run-tracker.ts";
import { testDatabaseUrl, testRedisUrl } from "../services.ts";
import { steps } from "../support/contract.ts";
import { recordingJobs } from "../support/recording-jobs.ts";

describe.each(steps.map((step) => [`${step.id}-${step.slug}`, step] as const))(
  "queues() of step %s",
  (_, step: Step) => {
    it("reports each queue that holds ready jobs, with how many and how long the oldest has waited; a queue no worker serves stays", async () => {
      const instance = await openInItsOwnNamespace(step);
      expect(await instance.queues()).toEqual([]);
      // Steps with named queues (07 on) get one job in a queue the worker below does not serve.
      const named = step.guarantees.includes("priorities");
      const enqueuedAt = Date.now();
      const ids = await instance.enqueueMany([
        { name: "Record", args: { n: 1 } },
        { name: "Record", args: { n: 2 } },
      ]);
      if (named) await instance.enqueue("Record", {}, { queue: "mail" });
      const waiting = await instance.queues();
      expect(waiting).toEqual([
        { queue: "default", ready: 2, oldestReadyAgeMs: expect.any(Number) },
        ...(named ? [{ queue: "mail", ready: 1, oldestReadyAgeMs: expect.any(Number) }] : []),
      ]);
      for (const { oldestReadyAgeMs } of waiting) {
        expect(oldestReadyAgeMs).toBeGreaterThanOrEqual(0);
        // No older than the jobs are (with a second to spare for two clocks read apart).
        expect(oldestReadyAgeMs).toBeLessThanOrEqual(Date.now() - enqueuedAt + 1_000);
      }

      const { registry } = recordingJobs();
      const tracker = new RunTracker(instance.events);
      const worker = instance.startWorker({ registry, pollIntervalMs: 20, queues: ["default"] });
      onTestFinished(() => worker.stop());
      await tracker.waitForAll(ids, 20_000);
      expect(await instance.queues()).toEqual(
        named ? [{ queue: "mail", ready: 1, oldestReadyAgeMs: expect.any(Number) }] : [],
      );
    });
  },
);

/** `step` in a namespace of its own, removed when the test ends. */
async function openInItsOwnNamespace(step: Step): Promise<StepInstance> {
  const instance = await step.open({
    databaseUrl: step.backend === "postgres" ? testDatabaseUrl() : undefined,
    redisUrl: step.backend === "redis" ? testRedisUrl() : undefined,
    namespace: `tq${step.id}_${randomBytes(3).toString("hex")}`,
  });
  onTestFinished(async () => {
    await instance.reset();
    await instance.database?.dropSchema();
    await instance.close();
  });
  return instance;
}

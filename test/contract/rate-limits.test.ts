/**
 * The contract suite: `rateLimits` — at most N jobs of one rate key start
 * per period, the rest held back without spending an attempt.
 *
 * Enforced where declared: of jobs limited to 3 per hour, two workers start
 * exactly 3 and the rest wait, with no error, no retry and no failure; jobs
 * held back by a short period all run later, each on its first attempt; a
 * limit that cannot be kept (0, negative, fractional, a period of 0) is
 * refused and nothing is stored. (The exact count per period across worker
 * processes, on a clock the test moves, is step 12's own test.)
 *
 * Where not declared, the step cannot be told a limit: it refuses the
 * option and stores nothing, rather than store jobs "limited" to 3 per hour
 * and start every one of them at once — which is what it does with the
 * jobs, demonstrated.
 */
import { expect, it } from "vitest";
import { EnqueueOptionError } from "../../lib/enqueue-options.ts";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import type { StepInstance } from "../../lib/step.ts";
import { contractFor } from "../support/contract.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";
import { eventually, untilQuiet } from "../support/waiting.ts";

const THREE_PER_HOUR = { key: "partner", limit: 3, periodMs: 3_600_000 };

/** The total of every state's count: 0 when nothing was stored. */
async function storedJobs(instance: StepInstance): Promise<number> {
  return Object.values(await instance.counts()).reduce((sum, count) => sum + count, 0);
}

contractFor("rateLimits", (step, declared) => {
  if (declared) {
    it("two workers start exactly the limit of a key per period; the rest wait, with no error, retry or failure", async () => {
      const instance = await openForTest(step, "ratelimit");
      const { registry, received } = recordingJobs();
      await instance.enqueueMany([
        ...Array.from({ length: 9 }, (_, i) => ({
          name: "Record",
          args: { key: "partner", i },
          rateLimit: THREE_PER_HOUR,
        })),
        ...Array.from({ length: 4 }, (_, i) => ({
          name: "Record",
          args: { key: "other", i },
          rateLimit: { key: "other", limit: 2, periodMs: 3_600_000 },
        })),
        { name: "Record", args: { key: null } },
      ]);
      const noise: string[] = [];
      for (const event of ["workerError", "retrying", "failed"] as const) {
        instance.events.on(event, (payload) => noise.push(`${event}: ${JSON.stringify(payload)}`));
      }
      // The default fallback poll: a worker whose jobs are all held back
      // sleeps until the next may start (an hour), and goes quiet.
      const workers = [1, 2].map(() => instance.startWorker({ registry, concurrency: 10 }));
      await eventually(() => received.length >= 6, "3 + 2 + 1 jobs to run");
      await untilQuiet(instance);
      await Promise.all(workers.map((worker) => worker.stop()));
      const keys = received.map((run) => (run.args as { key: string | null }).key);
      expect(keys.filter((key) => key === "partner")).toHaveLength(3);
      expect(keys.filter((key) => key === "other")).toHaveLength(2);
      expect(keys.filter((key) => key === null)).toHaveLength(1);
      expect(noise).toEqual([]);
      expect(await instance.counts()).toMatchObject({ ready: 8, finished: 6 });
    });

    it("a job held back runs in a later period, on its first attempt", async () => {
      const instance = await openForTest(step, "ratelater");
      const attempts: number[] = [];
      const registry = new JobRegistry([
        defineJob({
          name: "NoteAttempt",
          description: "remembers which attempt it is",
          exampleArguments: {},
          perform(_, { attempt }) {
            attempts.push(attempt);
          },
        }),
      ]);
      await instance.enqueueMany(
        Array.from({ length: 6 }, () => ({
          name: "NoteAttempt",
          rateLimit: { key: "short", limit: 2, periodMs: 200 },
        })),
      );
      const worker = instance.startWorker({ registry, concurrency: 6, pollIntervalMs: 5_000 });
      await eventually(() => attempts.length === 6, "all six to run");
      await worker.stop();
      expect(attempts).toEqual([1, 1, 1, 1, 1, 1]);
    });

    it("refuses a limit of 0, a negative or fractional one, a period of 0, and stores nothing", async () => {
      const instance = await openForTest(step, "ratebad");
      for (const rateLimit of [
        { key: "partner", limit: 0, periodMs: 1_000 },
        { key: "partner", limit: -3, periodMs: 1_000 },
        { key: "partner", limit: 1.5, periodMs: 1_000 },
        { key: "partner", limit: 3, periodMs: 0 },
        { key: "partner", limit: 3, periodMs: 2.5 },
      ]) {
        await expect(instance.enqueue("Record", {}, { rateLimit })).rejects.toThrow(
          EnqueueOptionError,
        );
      }
      expect(await storedJobs(instance)).toBe(0);
    });
  } else {
    it("demonstrates: it refuses a rate limit, and starts every job at once", async () => {
      const instance = await openForTest(step, "norate");
      const refused = instance.enqueue("Record", {}, { rateLimit: THREE_PER_HOUR });
      await expect(refused).rejects.toThrow(EnqueueOptionError);
      await expect(refused).rejects.toThrow(/step 12 adds rate limits/);
      await expect(
        instance.enqueueMany([{ name: "Record" }, { name: "Record", rateLimit: THREE_PER_HOUR }]),
      ).rejects.toThrow(EnqueueOptionError);
      expect(await storedJobs(instance)).toBe(0);
      // What the caller is left with: the nine jobs meant to start 3 per
      // hour, enqueued plainly. All nine start within the hour.
      const { registry, received } = recordingJobs();
      await instance.enqueueMany(
        Array.from({ length: 9 }, (_, i) => ({ name: "Record", args: { i } })),
      );
      const worker = instance.startWorker({ registry, pollIntervalMs: 20 });
      // At least: steps 01 and 02 may run a job twice.
      await eventually(() => received.length >= 9, "all nine to run");
      await worker.stop();
      expect(received.length).toBeGreaterThan(THREE_PER_HOUR.limit);
    });
  }
});

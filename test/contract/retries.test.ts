/**
 * The contract suite: `retries` — a failed job is retried with backoff, and
 * after its last attempt kept in a dead queue, from which it can be retried.
 *
 * Enforced where declared, with a short backoff passed to the worker.
 * Demonstrated where not: a job that throws once is never run again — it is
 * recorded as failed, in a final state, and a job enqueued after it runs
 * while it does not.
 */
import { expect, it } from "vitest";
import { defineJob } from "../../lib/jobs/job.ts";
import { contractFor } from "../support/contract.ts";
import { enqueueAndWait } from "../support/enqueue-and-wait.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";
import { nextEvent } from "../support/waiting.ts";

/** Short enough for a test, long enough that "after a wait" is a real wait. */
const BACKOFF = { baseMs: 50, maxMs: 1_000, jitter: 0.5 };

/** The recording jobs, and `Flaky`: throws on its first `failures` attempts (counted per job here). */
function flakyJobs() {
  const jobs = recordingJobs();
  const runs = new Map<string, number[]>();
  jobs.registry.register(
    defineJob<{ failures: number }>({
      name: "Flaky",
      description: "throws on its first `failures` attempts",
      exampleArguments: { failures: 2 },
      maxAttempts: 3,
      perform({ failures }, { jobId }) {
        const at = runs.get(jobId) ?? [];
        at.push(Date.now());
        runs.set(jobId, at);
        if (at.length <= failures) throw new Error(`flaked on run ${at.length}`);
      },
    }),
  );
  return { ...jobs, runs };
}

contractFor("retries", (step, declared) => {
  if (declared) {
    it("retries a failing job after a backoff until it succeeds", async () => {
      const instance = await openForTest(step, "retry");
      const { registry, runs } = flakyJobs();
      const retrying: string[] = [];
      instance.events.on("retrying", (e) => retrying.push(e.error));
      const worker = instance.startWorker({
        registry,
        pollIntervalMs: 20,
        retryBackoff: BACKOFF,
        dispatchIntervalMs: 20,
      });
      const id = await enqueueAndWait(instance, "finished", "Flaky", { failures: 2 }, 20_000);
      await worker.stop();
      const at = runs.get(id) ?? [];
      expect(at.length).toBe(3);
      expect(retrying).toEqual(["Error: flaked on run 1", "Error: flaked on run 2"]);
      // Each retry waited at least its backoff: 50 ms, then 100 ms.
      expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(45);
      expect((at[2] ?? 0) - (at[1] ?? 0)).toBeGreaterThanOrEqual(95);
      expect(await instance.counts()).toMatchObject({ finished: 1, failed: 0 });
    });

    it("keeps a job that failed its last attempt in the dead queue, with its error and stack, until it is retried", async () => {
      const instance = await openForTest(step, "dead");
      const { registry, runs } = flakyJobs();
      const worker = instance.startWorker({
        registry,
        pollIntervalMs: 20,
        retryBackoff: BACKOFF,
        dispatchIntervalMs: 20,
      });
      // Five failures, three attempts: it runs out.
      const id = await enqueueAndWait(instance, "failed", "Flaky", { failures: 5 }, 20_000);
      expect(runs.get(id)?.length).toBe(3);
      expect(await instance.counts()).toMatchObject({ failed: 1, finished: 0 });
      const dead = await instance.failedJobs?.();
      expect(dead).toHaveLength(1);
      expect(dead?.[0]).toMatchObject({ jobId: id, attempts: 3, error: "Error: flaked on run 3" });
      expect(dead?.[0]?.stack).toMatch(/flaked on run 3\n\s+at /);
      // Retried by hand: three more attempts, and the job's fourth and fifth
      // runs fail, its sixth succeeds.
      const finished = nextEvent(instance.events, "finished", (e) => e.jobId === id, 20_000);
      expect(await instance.retryFailedJobs?.("all")).toEqual([id]);
      await finished;
      await worker.stop();
      expect(runs.get(id)?.length).toBe(6);
      expect(await instance.failedJobs?.()).toEqual([]);
      expect(await instance.counts()).toMatchObject({ failed: 0, finished: 1 });
    });
  } else {
    it("demonstrates: a job that throws once is never run again", async () => {
      const instance = await openForTest(step, "noretry");
      const { registry, runs } = flakyJobs();
      const worker = instance.startWorker({ registry, pollIntervalMs: 20 });
      // It would succeed on its second run; it never gets one.
      const id = await enqueueAndWait(instance, "failed", "Flaky", { failures: 1 }, 20_000);
      const laterId = await enqueueAndWait(instance, "finished", "Record", {}, 20_000);
      await worker.stop();
      expect(runs.get(id)?.length).toBe(1);
      expect(laterId).not.toBe(id);
      // Failed is final: nothing is left waiting to run it again.
      const counts = await instance.counts();
      expect(counts).toMatchObject({ failed: 1, finished: 1 });
      const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
      expect(total).toBe(2);
      expect(instance.failedJobs).toBeUndefined();
    });
  }
});

/**
 * Every step answers what the dashboard asks, through the contract only:
 * its counts and queues add up to the jobs enqueued, the page renders them,
 * and each optional member the dashboard uses is there exactly where the
 * step's guarantees say it should be — the dead queue with retry and
 * discard (`retries`), scheduled jobs with their due time (`scheduledJobs`),
 * processes (`deadWorkersNoticed`).
 */
import { describe, expect, it } from "vitest";
import type { Guarantee, StepInstance } from "../../lib/step.ts";
import { CountHistory } from "../../lib/workshop/dashboard/history.ts";
import { renderPage } from "../../lib/workshop/dashboard/page.ts";
import { readSnapshot } from "../../lib/workshop/dashboard/snapshot.ts";
import { steps } from "../support/contract.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";
import { nthEvent } from "../support/waiting.ts";

describe("dashboard", () => {
  describe.each(steps.map((step) => [`${step.id}-${step.slug}`, step] as const))(
    "step %s",
    (_, step) => {
      it("answers counts and queues that add up to the jobs enqueued, and the page shows them", async () => {
        const instance = await openForTest(step, "dash");
        await instance.enqueueMany([
          { name: "Record", args: { n: 1 } },
          { name: "Record", args: { n: 2 } },
          { name: "Record", args: { n: 3 } },
        ]);
        await instance.fillHistory(4);
        const snapshot = await readSnapshot(instance);
        const total = Object.values(snapshot.counts).reduce((sum, count) => sum + count, 0);
        expect(total).toBe(7);
        expect(snapshot.queues.reduce((sum, queue) => sum + queue.ready, 0)).toBe(3);
        expect(snapshot.queues.every((queue) => (queue.oldestReadyAgeMs ?? 0) >= 0)).toBe(true);
        const has = (guarantee: Guarantee) => step.guarantees.includes(guarantee);
        expect(snapshot.processes !== undefined).toBe(has("deadWorkersNoticed"));
        expect(instance.failedJobs !== undefined).toBe(has("retries"));
        expect(instance.retryFailedJobs !== undefined).toBe(has("retries"));
        expect(instance.discardFailedJobs !== undefined).toBe(has("retries"));
        expect(instance.scheduledJobs !== undefined).toBe(has("scheduledJobs"));
        const html = renderPage({
          step,
          namespace: instance.namespace,
          snapshot,
          history: new CountHistory(),
          csrfToken: "token",
          refreshMs: 1000,
        });
        for (const [state, count] of Object.entries(snapshot.counts)) {
          expect(html).toContain(
            `<div class="count" data-state="${state}"><span class="number">${count}</span>`,
          );
        }
      });

      // Declared only where the step has the member (a step without is checked above).
      if (step.guarantees.includes("retries")) {
        it("lists a dead job, retries one to ready and discards another for good", async () => {
          const instance = await openForTest(step, "dash_dead");
          const { registry } = recordingJobs();
          const ids = await instance.enqueueMany([
            { name: "Explode", args: { message: "first" } },
            { name: "Explode", args: { message: "second" } },
          ]);
          const failed = nthEvent(instance.events, "failed", () => true, 2);
          const worker = instance.startWorker({ registry });
          await failed;
          await worker.stop();
          const [retried, discarded] = ids as [string, string];
          expect((await deadQueue(instance)).map((job) => job.jobId).sort()).toEqual(
            [...ids].sort(),
          );
          expect(await instance.retryFailedJobs?.([retried])).toEqual([retried]);
          expect(await instance.discardFailedJobs?.([discarded])).toEqual([discarded]);
          // Twice is once: a second click finds nothing left to do.
          expect(await instance.discardFailedJobs?.([discarded])).toEqual([]);
          expect(await deadQueue(instance)).toEqual([]);
          const { counts, queues } = await readSnapshot(instance);
          expect(counts.failed).toBe(0);
          expect(queues.reduce((sum, queue) => sum + queue.ready, 0)).toBe(1);
        });
      }

      if (step.guarantees.includes("scheduledJobs")) {
        it("lists scheduled jobs, soonest first, each with its due time", async () => {
          const instance = await openForTest(step, "dash_sched");
          const later = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
          const sooner = new Date(later.getTime() - 60_000);
          const [laterId, soonerId] = await instance.enqueueMany([
            { name: "Record", args: {}, runAt: later },
            { name: "Record", args: {}, runAt: sooner },
            { name: "Record", args: {}, runAt: later },
          ]);
          const scheduled = (await instance.scheduledJobs?.(2)) ?? [];
          expect(scheduled.map((job) => [job.jobId, job.dueAt.getTime(), job.attempts])).toEqual([
            [soonerId, sooner.getTime(), 0],
            [laterId, later.getTime(), 0],
          ]);
        });
      }
    },
  );
});

async function deadQueue(instance: StepInstance) {
  if (!instance.failedJobs) throw new Error(`Step ${instance.step.id} has no failedJobs.`);
  return instance.failedJobs();
}

/**
 * The contract suite: `priorities` — urgent jobs and named queues are served
 * first.
 *
 * Enforced where declared: an urgent job enqueued behind a backlog runs
 * first, and a worker serving one named queue leaves the others alone.
 * Where not declared there is no urgency to ignore — the step cannot be told
 * that a job is urgent — so what is demonstrated is that it says so: it
 * refuses a priority or a queue, naming the step that adds them, and stores
 * nothing (rather than storing an "urgent" job at the back of the line).
 */
import { expect, it } from "vitest";
import { EnqueueOptionError } from "../../lib/enqueue-options.ts";
import { contractFor } from "../support/contract.ts";
import { enqueueAndWait } from "../support/enqueue-and-wait.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";
import { eventually } from "../support/waiting.ts";

contractFor("priorities", (step, declared) => {
  if (declared) {
    it("runs an urgent job enqueued behind a backlog first", async () => {
      const instance = await openForTest(step, "urgent");
      const { registry, received } = recordingJobs();
      const backlog = await instance.enqueueMany(
        Array.from({ length: 30 }, (_, i) => ({ name: "Record", args: { i } })),
      );
      const urgent = await instance.enqueue("Record", { urgent: true }, { priority: 0 });
      const worker = instance.startWorker({ registry, pollIntervalMs: 20 });
      await eventually(() => received.length === backlog.length + 1, "every job to run");
      await worker.stop();
      expect(received[0]?.jobId).toBe(urgent);
    });

    it("a worker serving a named queue takes only that queue's jobs", async () => {
      const instance = await openForTest(step, "queues");
      const { registry, received } = recordingJobs();
      const ordinary = await instance.enqueue("Record", { queue: "default" }, { priority: 0 });
      const worker = instance.startWorker({ registry, queues: ["mail"], pollIntervalMs: 20 });
      const mail = await enqueueAndWait(instance, "finished", "Record", {}, 10_000, {
        queue: "mail",
      });
      await worker.stop();
      expect(received.map((run) => run.jobId)).toEqual([mail]);
      expect(ordinary).not.toBe(mail);
      expect(await instance.counts()).toMatchObject({ ready: 1, finished: 1 });
    });
  } else {
    it("demonstrates: it cannot be told a job is urgent — it refuses priority and queue, and stores nothing", async () => {
      const instance = await openForTest(step, "nopriority");
      for (const options of [{ priority: 0 }, { queue: "mail" }]) {
        const attempt = instance.enqueue("Record", {}, options);
        await expect(attempt).rejects.toThrow(EnqueueOptionError);
        await expect(attempt).rejects.toThrow(/step 07 adds them/);
      }
      await expect(
        instance.enqueueMany([{ name: "Record" }, { name: "Record", priority: 0 }]),
      ).rejects.toThrow(EnqueueOptionError);
      const total = Object.values(await instance.counts()).reduce((sum, count) => sum + count, 0);
      expect(total).toBe(0);
    });
  }
});

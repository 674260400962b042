/**
 * The contract suite: `scheduledJobs` — a job can be enqueued to run later.
 *
 * Enforced where declared: a job scheduled half a second ahead does not
 * start before its time (the worker's own clock, the same machine's as the
 * database's), and does start. Where not declared, what is demonstrated is
 * that the step says so: it refuses `runAt`, naming the step that adds it,
 * and stores nothing (rather than running next week's job now).
 */
import { expect, it } from "vitest";
import { EnqueueOptionError } from "../../lib/enqueue-options.ts";
import { defineJob } from "../../lib/jobs/job.ts";
import { contractFor } from "../support/contract.ts";
import { enqueueAndWait } from "../support/enqueue-and-wait.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";

const AHEAD_MS = 500;

contractFor("scheduledJobs", (step, declared) => {
  if (declared) {
    it("runs a job scheduled for later no earlier than its time", async () => {
      const instance = await openForTest(step, "later");
      const { registry } = recordingJobs();
      // Date.now() inside perform: the same wall clock runAt is read from.
      const startedAt: number[] = [];
      registry.register(
        defineJob({
          name: "NoteTheTime",
          description: "remembers when it ran",
          exampleArguments: {},
          perform() {
            startedAt.push(Date.now());
          },
        }),
      );
      const worker = instance.startWorker({ registry, pollIntervalMs: 20, dispatchIntervalMs: 20 });
      const runAt = new Date(Date.now() + AHEAD_MS);
      await enqueueAndWait(instance, "finished", "NoteTheTime", {}, 10_000, { runAt });
      await worker.stop();
      expect(startedAt).toHaveLength(1);
      expect(startedAt[0]).toBeGreaterThanOrEqual(runAt.getTime());
    });
  } else {
    it("demonstrates: it cannot hold a job for later — it refuses runAt, and stores nothing", async () => {
      const instance = await openForTest(step, "nolater");
      const attempt = instance.enqueue("Record", {}, { runAt: new Date(Date.now() + 60_000) });
      await expect(attempt).rejects.toThrow(EnqueueOptionError);
      await expect(attempt).rejects.toThrow(/step 07 adds scheduled jobs/);
      const total = Object.values(await instance.counts()).reduce((sum, count) => sum + count, 0);
      expect(total).toBe(0);
    });
  }
});

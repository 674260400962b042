/**
 * The contract suite: no job runs twice while several healthy workers share
 * the queue — enforced on the steps that declare it, demonstrated with a
 * barrier on the steps that do not.
 */
import { expect, it } from "vitest";
import { RunTracker } from "../../lib/workshop/bench/run-tracker.ts";
import { contractFor } from "../support/contract.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";
import { barrier, nthEvent } from "../support/waiting.ts";

contractFor("noDuplicatesWithHealthyWorkers", (step, declared) => {
  if (declared) {
    it("never runs a job twice with several workers", async () => {
      const instance = await openForTest(step, "nodup");
      const { registry } = recordingJobs();
      const tracker = new RunTracker(instance.events);
      const ids = await instance.enqueueMany(
        Array.from({ length: 300 }, (_, i) => ({ name: "Record", args: { i } })),
      );
      const workers = [1, 2, 3].map((n) =>
        instance.startWorker({ registry, concurrency: 3, name: `w${n}`, pollIntervalMs: 10 }),
      );
      await tracker.waitForAll(ids, 30_000);
      await Promise.all(workers.map((worker) => worker.stop()));
      expect(tracker.check(ids)).toEqual({
        expected: 300,
        completed: 300,
        missing: 0,
        duplicates: 0,
      });
    });
  } else {
    it("demonstrates: two workers that poll at the same moment run the same job", async () => {
      const instance = await openForTest(step, "dup");
      const { registry, received } = recordingJobs();
      const id = await instance.enqueue("Record", {});
      // Both workers pause right after choosing a job, until both have chosen.
      const bothPicked = barrier(2);
      const picks: string[] = [];
      const hooks = {
        async afterPick(jobId: string) {
          picks.push(jobId);
          if (picks.length <= 2) await bothPicked.arrive();
        },
      };
      const ranTwice = nthEvent(instance.events, "finished", (e) => e.jobId === id, 2);
      const workers = ["A", "B"].map((name) =>
        instance.startWorker({ registry, name, hooks, pollIntervalMs: 10 }),
      );
      await ranTwice;
      await Promise.all(workers.map((worker) => worker.stop()));
      expect(picks.slice(0, 2)).toEqual([id, id]);
      expect(received.map((run) => run.jobId)).toEqual([id, id]);
    });
  }
});

/**
 * The contract suite: a worker process killed with SIGKILL in the middle of a
 * job. Steps that declare `survivesWorkerCrash` must run that job again on a
 * healthy worker; steps that do not are shown losing it (or leaving it stuck):
 * a healthy worker runs a job enqueued after the crash, and still never runs
 * the one the dead worker had.
 */
import { expect, it } from "vitest";
import { contractFor } from "../support/contract.ts";
import { enqueueAndWait } from "../support/enqueue-and-wait.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";
import { nextEvent } from "../support/waiting.ts";
import { spawnWorker } from "../support/worker-process.ts";

contractFor("survivesWorkerCrash", (step, declared) => {
  /** Starts a worker process, gives it a long job, and kills it with SIGKILL once the job has started. */
  async function crashWorkerMidJob(label: string) {
    const instance = await openForTest(step, label);
    // Short heartbeats, for the steps that have them: the crashed worker
    // counts as dead after a second, not a minute.
    const crashing = spawnWorker(instance, [
      "--poll-interval",
      "20",
      "--heartbeat-interval",
      "100",
      "--alive-threshold",
      "1000",
    ]);
    const jobId = await instance.enqueue("Sleep", { ms: 600_000 });
    await crashing.waitForLine(new RegExp(`▶ job ${jobId} Sleep`));
    crashing.child.kill("SIGKILL");
    expect(await crashing.exited).toEqual({ code: null, signal: "SIGKILL" });
    return { instance, jobId };
  }

  if (declared) {
    it("runs a job again when its worker is killed with SIGKILL mid-job", async () => {
      const { instance, jobId } = await crashWorkerMidJob("crash");
      const { registry } = recordingJobs(); // its Sleep returns at once
      // Within 5 s: the threshold (1 s), a prune (every 100 ms) and a backoff
      // (20 ms) take about 1.2 s; a step that never runs it again fails
      // there. Each second more of this wait is a second more of every
      // practice check of a step without recovery.
      const rerun = nextEvent(instance.events, "finished", (e) => e.jobId === jobId, 5_000);
      // Steps with recovery (08) send the dead worker's job through the
      // retry path once its heartbeat is older than its threshold: look
      // often, and retry after a short backoff, so the rerun is not minutes away.
      const healthy = instance.startWorker({
        registry,
        pollIntervalMs: 20,
        heartbeatIntervalMs: 100,
        retryBackoff: { baseMs: 20, maxMs: 100, jitter: 0 },
        dispatchIntervalMs: 50,
      });
      await rerun;
      await healthy.stop();
    }, 60_000);
  } else {
    it("demonstrates: a job whose worker is killed with SIGKILL mid-job never runs again", async () => {
      const { instance, jobId } = await crashWorkerMidJob("crash");
      const { registry, received } = recordingJobs();
      const started: string[] = [];
      instance.events.on("started", (e) => started.push(e.jobId));
      const healthy = instance.startWorker({ registry, pollIntervalMs: 20 });
      // The healthy worker is working: it runs a job enqueued after the crash…
      const laterId = await enqueueAndWait(
        instance,
        "finished",
        "Record",
        { after: "the crash" },
        20_000,
      );
      await healthy.stop();
      // …and never the one the dead worker had.
      expect(received.map((run) => run.jobId)).toEqual([laterId]);
      expect(started).not.toContain(jobId);
    }, 60_000);
  }
});

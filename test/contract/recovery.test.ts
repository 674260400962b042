/**
 * The contract suite: `recovery` — the jobs of a worker that died are
 * recovered automatically, through the retry path.
 *
 * Both branches run the workshop's `KillsItsWorker`, a poison job that
 * SIGKILLs whichever worker process runs it.
 *
 * Enforced where declared: under a supervisor (`worker --processes 2`), each
 * death counts as an attempt and sends the job back to be retried; after its
 * third attempt it is in the dead queue with a reason that says its process
 * died, nothing is left claimed, and the restarted workers go on running
 * other jobs.
 *
 * Demonstrated where not declared, for the steps that claim jobs (05 on; the
 * earlier ones lose the job outright, which worker-crash.test.ts shows): the
 * dead worker's claim stays, even once its worker is reported dead (06, 07),
 * while a healthy worker runs the jobs enqueued after it.
 */
import { expect, it } from "vitest";
import type { StepInstance } from "../../lib/step.ts";
import { contractFor } from "../support/contract.ts";
import { enqueueAndWait } from "../support/enqueue-and-wait.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";
import { eventually, eventuallyWhileProgressing } from "../support/waiting.ts";
import { spawnWorker } from "../support/worker-process.ts";

/** Short heartbeats and a short backoff, so three deaths take seconds, not minutes. */
const QUICK = ["--heartbeat-interval", "100", "--alive-threshold", "1000"];

contractFor(
  "recovery",
  (step, declared) => {
    if (declared) {
      it("retries the job of a worker killed mid-run, and buries a job that kills every worker in the dead queue", async () => {
        const instance = await openForTest(step, "recovery");
        const supervisor = spawnWorker(instance, [
          "--processes",
          "2",
          "--retry-backoff",
          "20,100,0",
          ...QUICK,
        ]);
        try {
          // The supervisor's start and its first workers' come before the
          // window below: two starts in a row, which took over 10 s on a
          // 2-core machine busy with other test files.
          await supervisor.waitForLine(/running with/, 30_000);
          const poison = await instance.enqueue("KillsItsWorker", {});
          // However loaded the machine, it goes on: a worker starts, takes the
          // job, dies, and the job is retried on the next. A step that leaves
          // the dead worker's claim stands still after the first death, and
          // fails 10 s later (a worker's start, the longest wait between two
          // of those lines, takes 1–3 s on a loaded 2-core machine).
          const startsAndDeaths = async () =>
            supervisor.output().match(/running with|exited unexpectedly/g)?.length ?? 0;
          await eventuallyWhileProgressing(
            startsAndDeaths,
            async () => (await failedJobs(instance)).some((job) => job.jobId === poison),
            "the poison job to reach the dead queue",
            10_000,
          );
          const [buried] = await failedJobs(instance);
          expect(buried).toMatchObject({ jobId: poison, name: "KillsItsWorker", attempts: 3 });
          expect(buried?.error).toMatch(/^ProcessDiedError: .* died while running this job$/);
          expect(supervisor.output().match(/exited unexpectedly \(SIGKILL\)/g)).toHaveLength(3);

          // The workers that replaced the dead ones run the next job.
          await instance.enqueue("Sleep", { ms: 1 });
          await eventually(
            async () => (await instance.counts()).finished === 1,
            "a job enqueued afterwards to finish",
            20_000,
          );
          expect(await instance.counts()).toMatchObject({ ready: 0, claimed: 0, finished: 1 });
        } finally {
          supervisor.child.kill("SIGTERM");
        }
        expect(await supervisor.exited).toEqual({ code: 0, signal: null });
        expect(await instance.processes?.()).toEqual([]);
      }, 60_000);
    } else {
      it("demonstrates: the claim of a worker killed mid-run stays, and the job never runs again", async () => {
        const instance = await openForTest(step, "recovery");
        const hasProcesses = instance.processes !== undefined;
        const crashing = spawnWorker(instance, hasProcesses ? QUICK : []);
        const poison = await instance.enqueue("KillsItsWorker", {});
        expect(await crashing.exited).toEqual({ code: null, signal: "SIGKILL" });
        if (hasProcesses) {
          // Steps 06 and 07 notice the death; nothing acts on it.
          await eventually(
            async () =>
              (await instance.processes?.())?.some(
                (p) => p.pid === crashing.child.pid && !p.alive,
              ) === true,
            "the killed worker to be reported dead",
            10_000,
          );
        }
        // Its registry has no KillsItsWorker: were the job handed to it, it
        // would fail as unknown, not kill the test.
        const { registry, received } = recordingJobs();
        const started: string[] = [];
        instance.events.on("started", (e) => started.push(e.jobId));
        const healthy = instance.startWorker({
          registry,
          pollIntervalMs: 20,
          heartbeatIntervalMs: 100,
          aliveThresholdMs: 1_000,
        });
        const later = await enqueueAndWait(instance, "finished", "Record", {}, 20_000);
        await healthy.stop();
        expect(received.map((run) => run.jobId)).toEqual([later]);
        expect(started).not.toContain(poison);
        expect(await instance.counts()).toMatchObject({ claimed: 1, finished: 1 });
      }, 60_000);
    }
  },
  // The steps that claim jobs: the ones with a claim to leave behind; and any
  // step that declares recovery, whatever it keeps its claims in (09: a
  // processing list in Redis).
  (step) =>
    step.guarantees.includes("noTransactionWhileRunning") || step.guarantees.includes("recovery"),
);

async function failedJobs(instance: StepInstance) {
  if (!instance.failedJobs) {
    throw new Error(
      `Step ${instance.step.id} declares recovery but has no failedJobs(): where would a poison job end?`,
    );
  }
  return instance.failedJobs();
}

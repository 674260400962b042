/**
 * The contract suite: `lowLatencyPickup` — a new job is picked up at once,
 * not at the next poll.
 *
 * Enforced where declared: with the poll interval (for a LISTEN step, its
 * fallback poll; a Redis worker ignores it) set to two minutes, a job
 * enqueued to an idle worker starts within a few seconds — a bound twenty
 * times looser than what it measures, and still far below the poll.
 *
 * Demonstrated where not (Postgres steps that poll): after the worker's first
 * poll has come back empty — seen in `pg_stat_activity`, not guessed — a job
 * enqueued with a ten-minute poll interval has not started half a second
 * later, although it was ready all along: a fresh worker's first poll runs it.
 */
import { expect, it } from "vitest";
import { contractFor } from "../support/contract.ts";
import { enqueueAndWait } from "../support/enqueue-and-wait.ts";
import { openObserver } from "../support/observer.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";
import { eventually, nextEvent, untilQuiet } from "../support/waiting.ts";

/** Longer than any test: a step that needs its poll to see a job fails the bound below. */
const LONG_POLL_MS = 120_000;
/** Generous: a LISTEN or BRPOP pickup takes milliseconds. */
const PICKUP_BOUND_MS = 5_000;
/** What "not at once" means in the demonstration. */
const NOT_YET_MS = 500;
/** How long the statement counter must stand still to call a worker idle. */
const QUIET_MS = 300;

contractFor("lowLatencyPickup", (step, declared) => {
  if (declared) {
    it("starts a job enqueued to an idle worker at once, long before its next poll", async () => {
      const instance = await openForTest(step, "pickup");
      const { registry } = recordingJobs();
      const worker = instance.startWorker({ registry, pollIntervalMs: LONG_POLL_MS });
      // Idle: its start-up work (connect, LISTEN, a first look at the
      // queue) is done and it sends nothing more. Were it to send
      // something after all, the job would only be found sooner by a
      // query — the bound below still holds against the two-minute poll.
      await untilQuiet(instance, QUIET_MS);
      // Listening from before the enqueue: with Redis the job can start before it returns.
      await enqueueAndWait(instance, "started", "Record", {}, PICKUP_BOUND_MS);
      await worker.stop();
    });
  } else if (step.backend === "postgres") {
    it("demonstrates: a job enqueued after an empty poll waits for the next poll", async () => {
      const instance = await openForTest(step, "pickup");
      const observer = await openObserver();
      const { registry } = recordingJobs();
      const before = await observer.serverTime();
      const worker = instance.startWorker({ registry, pollIntervalMs: 10 * 60_000 });
      // The first poll is over when one of the step's connections has gone
      // idle since the worker started, after running something (a brand-new
      // connection is idle too, with no query yet).
      await eventually(async () => {
        const connections = await observer.connectionsOf(instance.namespace);
        return connections.some(
          (c) =>
            c.state === "idle" &&
            c.query !== "" &&
            c.state_change !== null &&
            c.state_change >= before,
        );
      }, "the worker's first poll to come back empty");
      const id = await instance.enqueue("Record", {});
      await expect(
        nextEvent(instance.events, "started", (e) => e.jobId === id, NOT_YET_MS),
      ).rejects.toThrow(/Saw 0 of 1/);
      await worker.stop();
      // It was ready all along: a new worker's first poll runs it at once.
      const finished = nextEvent(instance.events, "finished", (e) => e.jobId === id);
      const fresh = instance.startWorker({ registry, pollIntervalMs: 10 * 60_000 });
      await finished;
      await fresh.stop();
    });
  } else {
    it("has a demonstration of slow pickup for a Redis step that does not declare lowLatencyPickup", () => {
      // Every Redis step so far blocks on BRPOP and declares the guarantee.
      // One that does not needs its own demonstration written here.
      expect.fail(`Step ${step.id} does not declare lowLatencyPickup: add its demonstration.`);
    });
  }
});

/** Waits until the instance has sent nothing for {@link QUIET_MS}. */

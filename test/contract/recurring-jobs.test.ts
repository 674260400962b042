/**
 * The contract suite: `recurringJobs` — each tick of a recurring schedule is
 * enqueued exactly once, whatever the number of schedulers.
 *
 * Enforced where declared: three schedulers of one minutely schedule wake
 * at the same tick, all at once, twenty ticks in a row: each tick has one
 * job, none is missing, and nothing else is stored. Where not declared, the
 * step has no scheduler, and what an app would build on it is demonstrated:
 * a timer in each process that enqueues the job when the expression
 * matches (`setInterval` and a cron check). Three processes, one tick:
 * three jobs.
 */
import { Cron } from "croner";
import { expect, it } from "vitest";
import type { RecurringSchedule, StepInstance } from "../../lib/step.ts";
import { contractFor } from "../support/contract.ts";
import { openForTest } from "../support/open.ts";

const EVERY_MINUTE: RecurringSchedule = {
  name: "every-minute",
  cron: "* * * * *",
  job: "Noop",
  args: { schedule: "every-minute" },
};
const SCHEDULERS = 3;
const TICKS = 20;
/** A Monday 09:00 UTC: the schedulers are handed the time, so the test never waits for a minute. */
const FIRST_TICK = Date.parse("2026-01-05T09:00:00Z");

const tickAt = (index: number) => new Date(FIRST_TICK + index * 60_000);

async function totalJobs(instance: StepInstance): Promise<number> {
  const counts = await instance.counts();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

contractFor("recurringJobs", (step, declared) => {
  if (declared) {
    it("enqueues each tick once when three schedulers wake at the same moment", async () => {
      const instance = await openForTest(step, "cron");
      const makeScheduler = instance.scheduler;
      expect(makeScheduler, "a step with recurringJobs must expose scheduler()").toBeDefined();
      if (!makeScheduler) return;
      const schedulers = Array.from({ length: SCHEDULERS }, () => makeScheduler([EVERY_MINUTE]));
      const perTick: number[] = [];
      for (let i = 0; i < TICKS; i++) {
        const enqueued = await Promise.all(
          schedulers.map((scheduler) => scheduler.tick(tickAt(i))),
        );
        perTick.push(enqueued.flat().length);
      }
      expect(perTick).toEqual(Array.from({ length: TICKS }, () => 1));
      expect(await totalJobs(instance)).toBe(TICKS);
      const [report] = await (schedulers[0]?.list() ?? []);
      expect(report?.last?.tickAt).toEqual(tickAt(TICKS - 1));
    });
  } else {
    it("demonstrates: three processes that each enqueue on the tick enqueue it three times", async () => {
      const instance = await openForTest(step, "naivecron");
      // What each process runs without a scheduler of the queue's own:
      // every minute, setInterval wakes it; if the expression matches, it
      // enqueues. Here all three wake at the same tick.
      const cron = new Cron(EVERY_MINUTE.cron, { timezone: "UTC" });
      const naiveTick = async (at: Date) => {
        if (cron.match(at)) await instance.enqueue(EVERY_MINUTE.job, EVERY_MINUTE.args);
      };
      await Promise.all(Array.from({ length: SCHEDULERS }, () => naiveTick(tickAt(0))));
      expect(await totalJobs(instance)).toBe(SCHEDULERS);
    });
  }
});

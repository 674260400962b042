/**
 * Step 13's scheduler, with the time handed in (the clock a test injects):
 * each tick once under any interleaving, missed ticks skipped or filled up
 * to a bound, ticks named by the expression and not by the moment of
 * waking, schedules that come and go with the code — and the jobs it
 * enqueues run.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import type { RecurringSchedule, StepInstance } from "../../lib/step.ts";
import { RunTracker } from "../../lib/workshop/bench/run-tracker.ts";
import { openForTest } from "../../test/support/open.ts";
import { step } from "./index.ts";
import { TickingScheduler } from "./scheduler.ts";

const MINUTE = 60_000;
/** A Monday, 09:00 UTC. */
const T0 = Date.parse("2026-01-05T09:00:00Z");
const at = (ms: number) => new Date(T0 + ms);

const minutely = (name: string, missedTicks?: RecurringSchedule["missedTicks"]) =>
  ({ name, cron: "* * * * *", job: "Noop", args: { schedule: name }, missedTicks }) as const;

/** The ticks enqueued for each schedule (a key with its job), as ISO strings, oldest first. */
async function ticksOf(instance: StepInstance): Promise<Record<string, string[]>> {
  const rows =
    (await instance.database?.query<{ schedule_name: string; tick_at: Date }>(
      `SELECT schedule_name, tick_at FROM recurring_executions
       JOIN jobs ON jobs.id = recurring_executions.job_id
       ORDER BY schedule_name, tick_at`,
    )) ?? [];
  const ticks: Record<string, string[]> = {};
  for (const row of rows) {
    ticks[row.schedule_name] = [...(ticks[row.schedule_name] ?? []), row.tick_at.toISOString()];
  }
  return ticks;
}

async function jobCount(instance: StepInstance): Promise<number> {
  const [row] =
    (await instance.database?.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs")) ?? [];
  return row?.n ?? -1;
}

function schedulerOf(instance: StepInstance, schedules: readonly RecurringSchedule[]) {
  const scheduler = instance.scheduler?.(schedules);
  if (!scheduler) throw new Error("step 13 has a scheduler");
  return scheduler;
}

describe("step 13 — the scheduler", () => {
  it("enqueues each of 100 ticks exactly once when 3 schedulers tick at once, in random interleavings", async () => {
    const instance = await openForTest(step, "interleave");
    const database = instance.database;
    if (!database) throw new Error("step 13 is a Postgres step");
    // Each scheduler pauses a random 0–3 ms after writing a tick's key, and
    // starts its tick after a random 0–3 ms: the three meet in a different
    // order at every tick, often while one holds the key uncommitted.
    const jitter = () => sleep(Math.random() * 3);
    const schedulers = [1, 2, 3].map(
      () =>
        new TickingScheduler(database, [minutely("every-minute")], {
          registry: workshopJobs(),
          hooks: { afterKeyWritten: jitter },
        }),
    );
    const perTick: number[] = [];
    for (let i = 0; i < 100; i++) {
      const results = await Promise.all(
        schedulers.map(async (scheduler) => {
          await jitter();
          return scheduler.tick(at(i * MINUTE));
        }),
      );
      perTick.push(results.flat().length);
    }
    expect(perTick).toEqual(Array.from({ length: 100 }, () => 1));
    expect((await ticksOf(instance))["every-minute"]).toHaveLength(100);
    expect(await jobCount(instance)).toBe(100);
  });

  it("after 10 minutes with no scheduler, fills the 10 missed ticks of a filling schedule, and enqueues only the latest of a skipping one", async () => {
    const instance = await openForTest(step, "missed");
    const scheduler = schedulerOf(instance, [
      minutely("fills", { fillUpTo: 60 }),
      minutely("skips", "skip"),
      minutely("fills-three", { fillUpTo: 3 }),
    ]);
    await scheduler.tick(at(0));
    // Down from 09:00 until 09:10: the scheduler wakes again at 09:10.
    await scheduler.tick(at(10 * MINUTE));
    const ticks = await ticksOf(instance);
    const minute = (m: number) => at(m * MINUTE).toISOString();
    expect(ticks.fills).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(minute));
    expect(ticks.skips).toEqual([minute(0), minute(10)]);
    // The bound: the latest three of the ten missed, oldest first.
    expect(ticks["fills-three"]).toEqual([0, 8, 9, 10].map(minute));
  });

  it("names a tick by the expression, not by the moment it woke: a late wake and a punctual one enqueue the same tick once", async () => {
    const instance = await openForTest(step, "late");
    const punctual = schedulerOf(instance, [minutely("every-minute")]);
    const late = schedulerOf(instance, [minutely("every-minute")]);
    await punctual.tick(at(0));
    await late.tick(at(0));
    // 09:01:00.000 on time, and 17 s late; then a clock that runs ahead
    // wakes at 09:01:59.9, before the 09:02 tick.
    await punctual.tick(at(MINUTE));
    await late.tick(at(MINUTE + 17_000));
    await late.tick(at(2 * MINUTE - 100));
    expect((await ticksOf(instance))["every-minute"]).toEqual([
      at(0).toISOString(),
      at(MINUTE).toISOString(),
    ]);
  });

  it("starts a schedule new to the code at its next tick, not at the one just past", async () => {
    const instance = await openForTest(step, "new");
    const scheduler = schedulerOf(instance, [
      { name: "hourly", cron: "0 * * * *", job: "Noop", missedTicks: { fillUpTo: 24 } },
    ]);
    // First look at 09:30: the 09:00 tick is not this schedule's to run.
    expect(await scheduler.tick(at(30 * MINUTE))).toEqual([]);
    expect(await scheduler.tick(at(60 * MINUTE))).toHaveLength(1);
    expect((await ticksOf(instance)).hourly).toEqual([at(60 * MINUTE).toISOString()]);
  });

  it("stops firing a schedule removed from the code, and keeps firing the others", async () => {
    const instance = await openForTest(step, "removed");
    const before = schedulerOf(instance, [minutely("kept"), minutely("removed")]);
    await before.tick(at(0));
    // The next deploy's code has one schedule left; its scheduler takes over.
    const after = schedulerOf(instance, [minutely("kept")]);
    await after.tick(at(MINUTE));
    await after.tick(at(2 * MINUTE));
    const ticks = await ticksOf(instance);
    expect(ticks.kept).toHaveLength(3);
    expect(ticks.removed).toEqual([at(0).toISOString()]);
  });

  it("lists each schedule with its last tick, that tick's job and its next tick", async () => {
    const instance = await openForTest(step, "list");
    const scheduler = schedulerOf(instance, [
      minutely("ticked"),
      { name: "never-yet", cron: "0 3 * * *", timeZone: "Europe/Paris", job: "Noop" },
    ]);
    const [jobId] = await scheduler.tick(at(0));
    const reports = await scheduler.list();
    expect(reports.map((report) => report.schedule.name)).toEqual(["ticked", "never-yet"]);
    expect(reports[0]?.last).toEqual({ tickAt: at(0), jobId });
    expect(reports[1]?.last).toBeNull();
    // 03:00 in Paris in winter is 02:00 UTC.
    expect(reports[1]?.nextTickAt?.toISOString()).toMatch(/T02:00:00\.000Z$/);
  });

  it("enqueues jobs that a worker runs, with the schedule's arguments", async () => {
    const instance = await openForTest(step, "runs");
    const tracker = new RunTracker(instance.events);
    const ids = await schedulerOf(instance, [
      { name: "welcome", cron: "* * * * *", job: "SendWelcomeEmail", args: { userId: 7 } },
    ]).tick(at(0));
    const worker = instance.startWorker({ pollIntervalMs: 20 });
    await tracker.waitForAll(ids, 10_000);
    await worker.stop();
    expect(await instance.counts()).toMatchObject({ finished: 1, ready: 0, failed: 0 });
    const [row] =
      (await instance.database?.query<{ arguments: string }>(
        "SELECT arguments FROM jobs WHERE id = $1",
        [ids[0]],
      )) ?? [];
    expect(JSON.parse(row?.arguments ?? "null")).toEqual({ userId: 7 });
  });
});

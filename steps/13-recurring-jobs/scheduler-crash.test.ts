/**
 * Step 13: a scheduler killed with `kill -9` in the middle of a tick — its
 * key written, its transaction open — while another scheduler waits on
 * that key. The server rolls the dead one's transaction back when its
 * connection drops; the waiting scheduler's insert then goes through, and
 * it enqueues the tick. Not lost, not doubled.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { describe, expect, it, onTestFinished } from "vitest";
import { REPO_ROOT } from "../../lib/paths.ts";
import type { RecurringSchedule } from "../../lib/step.ts";
import { testDatabaseUrl } from "../../test/services.ts";
import { openForTest } from "../../test/support/open.ts";
import { eventually } from "../../test/support/waiting.ts";
import { step } from "./index.ts";

const SCHEDULE: RecurringSchedule = { name: "every-minute", cron: "* * * * *", job: "Noop" };
const TICK = new Date("2026-01-05T09:00:00Z");

/**
 * The scheduler to kill, in a process of its own: it ticks once, at the
 * time it is given, and stops in the middle — the tick's key written, its
 * transaction open, its job not yet enqueued — says so, and waits for
 * SIGKILL. Arguments: namespace, tick, schedule (JSON).
 */
const SCHEDULER_STOPPED_MID_TICK = `
  const [namespace, tick, schedule] = process.argv.slice(1);
  const { step } = await import("./steps/13-recurring-jobs/index.ts");
  const { TickingScheduler } = await import("./steps/13-recurring-jobs/scheduler.ts");
  const { workshopJobs } = await import("./lib/jobs/catalog.ts");
  const instance = await step.open({ databaseUrl: process.env.DATABASE_URL, namespace });
  const scheduler = new TickingScheduler(instance.database, [JSON.parse(schedule)], {
    registry: workshopJobs(),
    hooks: {
      async afterKeyWritten(name, tickAt) {
        console.log("holding " + name + " " + tickAt.toISOString());
        await new Promise(() => {});
      },
    },
  });
  await scheduler.tick(new Date(tick));
`;

describe("step 13 — a scheduler killed mid-tick", () => {
  it("leaves the tick to the scheduler waiting on its key, which enqueues it once", async () => {
    const instance = await openForTest(step, "killtick");
    const database = instance.database;
    const scheduler = instance.scheduler?.([SCHEDULE]);
    if (!database || !scheduler) throw new Error("step 13 has a database and a scheduler");
    // The scheduler to kill ticks first (its first look is the tick itself).
    const doomed = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "--eval",
        SCHEDULER_STOPPED_MID_TICK,
        instance.namespace,
        TICK.toISOString(),
        JSON.stringify(SCHEDULE),
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, DATABASE_URL: testDatabaseUrl() },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const exited = new Promise((resolve) => doomed.once("exit", resolve));
    onTestFinished(async () => {
      doomed.kill("SIGKILL");
      await exited;
    });
    const lines = createInterface({ input: doomed.stdout });
    await new Promise<void>((resolve, reject) => {
      lines.on("line", (line) => {
        if (line === `holding every-minute ${TICK.toISOString()}`) resolve();
      });
      void exited.then((code) =>
        reject(new Error(`The scheduler exited (${code}) before holding the tick.`)),
      );
    });

    // The survivor ticks the same tick, and waits on the key the other holds.
    const surviving = scheduler.tick(TICK);
    await eventually(async () => {
      const waiting = await database.query(
        `SELECT 1 FROM pg_stat_activity
         WHERE application_name = $1 AND wait_event_type = 'Lock'
           AND query LIKE 'INSERT INTO recurring_executions%'`,
        [instance.namespace],
      );
      return waiting.length === 1;
    }, "the surviving scheduler waiting on the held key");

    doomed.kill("SIGKILL");
    await exited;
    const enqueued = await surviving;
    expect(enqueued).toHaveLength(1);
    const rows = await database.query<{ tick_at: Date; job_id: string }>(
      "SELECT tick_at, job_id FROM recurring_executions",
    );
    expect(rows).toEqual([{ tick_at: TICK, job_id: enqueued[0] }]);
    expect(await instance.counts()).toMatchObject({ ready: 1 });
  });
});

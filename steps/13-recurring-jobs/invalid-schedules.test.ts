/**
 * Step 13: a schedule that cannot run is refused when the scheduler is made
 * — so when the supervisor starts — with an error that names it, and
 * nothing is stored or started.
 */
import { describe, expect, it } from "vitest";
import { InputError } from "../../lib/input-error.ts";
import type { RecurringSchedule } from "../../lib/step.ts";
import { openForTest } from "../../test/support/open.ts";
import { step } from "./index.ts";
import { InvalidScheduleError } from "./schedule.ts";
import { startSupervisor } from "./supervisor.ts";

const GOOD: RecurringSchedule = { name: "good", cron: "* * * * *", job: "Noop" };

const INVALID: readonly [string, RecurringSchedule, RegExp][] = [
  [
    "a cron expression with a minute of 61",
    { name: "bad-minute", cron: "61 * * * *", job: "Noop" },
    /Schedule "bad-minute": invalid cron expression "61 \* \* \* \*": .*minute/,
  ],
  [
    "a cron expression with four fields",
    { name: "four-fields", cron: "* * * *", job: "Noop" },
    /Schedule "four-fields": invalid cron expression/,
  ],
  [
    "a cron expression that never matches (30 February)",
    { name: "never", cron: "0 0 30 2 *", job: "Noop" },
    /Schedule "never": the cron expression "0 0 30 2 \*" never matches/,
  ],
  [
    "an unknown time zone",
    { name: "on-mars", cron: "* * * * *", timeZone: "Mars/Olympus", job: "Noop" },
    /Schedule "on-mars": unknown time zone "Mars\/Olympus"/,
  ],
  [
    "a job nobody registered",
    { name: "typo", cron: "* * * * *", job: "SendWelcomeEmial" },
    /Schedule "typo": no job named "SendWelcomeEmial" is registered \(known: .*SendWelcomeEmail/,
  ],
  [
    "arguments its job refuses",
    { name: "bad-args", cron: "* * * * *", job: "SendWelcomeEmail", args: { userId: "42" } },
    /Schedule "bad-args": .*userId/,
  ],
  [
    "a fill bound that is not a whole number from 1",
    { name: "fill-zero", cron: "* * * * *", job: "Noop", missedTicks: { fillUpTo: 0 } },
    /Schedule "fill-zero": missedTicks.fillUpTo must be a whole number from 1 to 10000/,
  ],
  ["a name used twice", { ...GOOD }, /Schedule "good": the name is used by another schedule/],
];

describe("step 13 — invalid schedules", () => {
  it.each(INVALID)(
    "refuses %s, naming the schedule, and stores nothing",
    async (_, bad, message) => {
      const instance = await openForTest(step, "invalid");
      const make = () => instance.scheduler?.([GOOD, bad]);
      expect(make).toThrow(InvalidScheduleError);
      expect(make).toThrow(InputError);
      expect(make).toThrow(message);
      expect(await instance.database?.query("SELECT * FROM recurring_executions")).toEqual([]);
    },
  );

  it("stops the supervisor before it registers or starts a worker", async () => {
    const instance = await openForTest(step, "badsupervisor");
    const database = instance.database;
    if (!database) throw new Error("step 13 is a Postgres step");
    const lines: string[] = [];
    const starting = startSupervisor(
      database,
      step.id,
      {
        processes: 1,
        workerArgs: [],
        out: { line: (text = "") => lines.push(text) },
        schedules: ["good", "on-mars"],
      },
      [GOOD, { name: "on-mars", cron: "* * * * *", timeZone: "Mars/Olympus", job: "Noop" }],
    );
    await expect(starting).rejects.toThrow(/Schedule "on-mars": unknown time zone/);
    expect(lines).toEqual([]);
    expect(await instance.processes?.()).toEqual([]);
  });
});

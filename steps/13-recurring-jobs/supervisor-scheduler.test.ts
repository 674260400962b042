/**
 * Step 13: the scheduler every supervisor runs, on the database's clock.
 * Two supervisors, one schedule that ticks every second: every tick while
 * they ran is enqueued, once.
 */
import { describe, expect, it } from "vitest";
import type { RecurringSchedule } from "../../lib/step.ts";
import { openForTest } from "../../test/support/open.ts";
import { eventually } from "../../test/support/waiting.ts";
import { step } from "./index.ts";
import { startSupervisor } from "./supervisor.ts";

// Filling: a loop that wakes late on a loaded machine still enqueues the
// seconds it slept through, so "none skipped" holds by design, not by luck.
const EVERY_SECOND: RecurringSchedule = {
  name: "every-second",
  cron: "* * * * * *",
  job: "Noop",
  missedTicks: { fillUpTo: 10 },
};
const TICKS = 4;

describe("step 13 — a scheduler in every supervisor", () => {
  it("enqueues every tick once with two supervisors running the same schedule", async () => {
    const instance = await openForTest(step, "supervisors");
    const database = instance.database;
    if (!database) throw new Error("step 13 is a Postgres step");
    const lines: string[] = [];
    // No worker processes: the jobs stay ready, to be counted.
    const start = () =>
      startSupervisor(
        database,
        step.id,
        {
          processes: 0,
          workerArgs: [],
          out: { line: (text = "") => lines.push(text) },
          schedules: [EVERY_SECOND.name],
        },
        [EVERY_SECOND],
      );
    const supervisors = await Promise.all([start(), start()]);
    const ticks = async () =>
      database.query<{ tick_at: Date; job_id: string | null }>(
        "SELECT tick_at, job_id FROM recurring_executions ORDER BY tick_at",
      );
    try {
      await eventually(async () => (await ticks()).length >= TICKS, `${TICKS} ticks enqueued`);
    } finally {
      await Promise.all(supervisors.map((supervisor) => supervisor.stop("SIGTERM")));
    }
    const rows = await ticks();
    // Whole seconds, one apart: none skipped, none twice, none at the
    // moment a scheduler happened to wake.
    const seconds = rows.map((row) => row.tick_at.getTime() / 1000);
    expect(seconds.every(Number.isInteger)).toBe(true);
    expect(seconds).toEqual(seconds.map((_, i) => (seconds[0] ?? 0) + i));
    expect(rows.every((row) => row.job_id !== null)).toBe(true);
    expect(await instance.counts()).toMatchObject({ ready: rows.length });
    expect(lines.filter((line) => line.includes("recurring schedules: every-second"))).toHaveLength(
      2,
    );
  });
});

/**
 * `npm run step 13`: a job every second, first the naive way on step 08 — a
 * timer in each of three processes, three jobs a tick — then with step 13's
 * schedulers in three supervisors, one job a tick; ten minutes without any
 * scheduler, skipped or filled; and the schedules with their last and next
 * run.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Output, RecurringSchedule, StepInstance } from "../../../lib/step.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";
import { startSupervisor } from "../supervisor.ts";

const SCHEDULERS = 3;
/** How long each of the first two scenes lets its schedulers run. */
const RUN_MS = 4_000;
const EVERY_SECOND: RecurringSchedule = {
  name: "every-second",
  cron: "* * * * * *",
  job: "Noop",
  args: { schedule: "every-second" },
};

export async function runStory({ open, out }: RunContext): Promise<void> {
  heading(out, "Step 13 — recurring jobs: each tick once, however many schedulers");
  say(
    out,
    "An app wants a job every second (every night, in real life). Every process of it runs " +
      "the same code, so every process runs the timer — and there are three.",
  );
  const naive = await open({ step: "08", namespace: "story_13_naive" });
  try {
    await naive.reset();
    await showNaiveTimers(out, naive);
  } finally {
    await naive.close();
  }
  const instance = await open({ namespace: "story_13" });
  try {
    await instance.reset();
    await showSchedulers(out, instance);
    await sleep(1_000);
    await showMissedTicks(out, instance);
    await showSchedules(out, instance);
    heading(out, "What is still wrong");
    say(
      out,
      "A tick is enqueued once; its job still runs at least once, as every step 08 job does: " +
        "a worker killed mid-job runs it again. Write recurring jobs to be idempotent, like any " +
        "other. And schedules are code: during a rolling deploy, old and new processes tick " +
        "their own versions of a schedule, so a changed expression can fire at both its old " +
        "and its new times until the old processes are gone.",
    );
    await instance.reset();
  } finally {
    await instance.close();
  }
}

/** Three timers on step 08, each enqueuing the job every second: what each process of the app would run. */
async function showNaiveTimers(out: Output, instance: StepInstance): Promise<void> {
  heading(out, `Step 08: a setInterval in each of ${SCHEDULERS} processes`);
  const timers = Array.from({ length: SCHEDULERS }, () =>
    setInterval(() => {
      void instance.enqueue(EVERY_SECOND.job, EVERY_SECOND.args);
    }, 1_000),
  );
  await sleep(RUN_MS);
  for (const timer of timers) clearInterval(timer);
  await sleep(100); // let the last enqueues land
  const rows = await instance.database?.query<{ second: Date; jobs: number }>(
    `SELECT date_trunc('second', created_at) AS second, count(*)::int AS jobs
     FROM jobs GROUP BY 1 ORDER BY 1`,
  );
  printPerSecond(out, rows ?? []);
  say(
    out,
    `${SCHEDULERS} jobs a second instead of one, at whatever moment each process started its ` +
      'timer. A fix that checks first ("is there a job for this second already?") races: ' +
      "all three look at once, all three see none.",
  );
}

/** Three supervisors' schedulers on step 13, by the database's clock. */
async function showSchedulers(out: Output, instance: StepInstance): Promise<void> {
  heading(out, `Step 13: a scheduler in each of ${SCHEDULERS} supervisors`);
  say(
    out,
    "Each tick is a time the cron expression names (10:00:01.000). Each scheduler wakes at " +
      "it, by the database's clock, and writes the key (every-second, 10:00:01) in the " +
      "transaction that enqueues the job — INSERT … ON CONFLICT DO NOTHING. One of them " +
      "writes it; the others' inserts do nothing, with no error.",
  );
  const database = instance.database;
  if (!database) throw new Error("Step 13 is a Postgres step.");
  const enqueuedBy = new Map<number, number>();
  const supervisors = await Promise.all(
    Array.from({ length: SCHEDULERS }, (_, index) =>
      startSupervisor(
        database,
        instance.step.id,
        {
          processes: 0, // no workers: the jobs stay ready, to be counted
          workerArgs: [],
          schedules: [EVERY_SECOND.name],
          out: {
            line: (text = "") => {
              if (text.includes("scheduler enqueued"))
                enqueuedBy.set(index, (enqueuedBy.get(index) ?? 0) + 1);
            },
          },
        },
        [EVERY_SECOND],
      ),
    ),
  );
  await sleep(RUN_MS);
  await Promise.all(supervisors.map((supervisor) => supervisor.stop("SIGTERM")));
  const rows = await database.query<{ second: Date; jobs: number }>(
    `SELECT tick_at AS second, count(job_id)::int AS jobs
     FROM recurring_executions GROUP BY 1 ORDER BY 1`,
  );
  printPerSecond(out, rows);
  const shares = Array.from(
    { length: SCHEDULERS },
    (_, index) => `supervisor ${index + 1}: ${enqueuedBy.get(index) ?? 0}`,
  );
  say(
    out,
    `One job a tick, on the second. Who enqueued which tick is whoever woke first (${shares.join(", ")}); ` +
      "nobody is the leader, so nobody's death stops the schedule.",
  );
}

/** Ten minutes without any scheduler, with the time handed in: skipped or filled. */
async function showMissedTicks(out: Output, instance: StepInstance): Promise<void> {
  heading(out, "Ten minutes with no scheduler running");
  const scheduler = instance.scheduler?.([
    { name: "minutely-skip", cron: "* * * * *", job: "Noop", missedTicks: "skip" },
    { name: "minutely-fill", cron: "* * * * *", job: "Noop", missedTicks: { fillUpTo: 60 } },
  ]);
  if (!scheduler) throw new Error("Step 13 has a scheduler.");
  // The scheduler's clock is whatever we hand it: 09:00, then 09:10.
  const nine = new Date("2026-01-05T09:00:00Z");
  await scheduler.tick(nine);
  await scheduler.tick(new Date(nine.getTime() + 10 * 60_000));
  const rows =
    (await instance.database?.query<{ schedule_name: string; jobs: number }>(
      `SELECT schedule_name, count(*)::int AS jobs FROM recurring_executions
       WHERE schedule_name LIKE 'minutely-%' AND tick_at > $1
       GROUP BY 1 ORDER BY 1 DESC`,
      [nine],
    )) ?? [];
  const lines = renderTable(
    ["schedule", "jobs enqueued when a scheduler woke at 09:10"],
    rows.map((row) => [row.schedule_name, String(row.jobs)]),
  );
  for (const line of lines) out.line(`  ${line}`);
  say(
    out,
    "The last scheduler ticked at 09:00, then all were down until 09:10. A schedule that " +
      "skips enqueues the 09:10 tick only; one that fills enqueues 09:01 to 09:10, oldest " +
      "first — up to its bound, so a weekend down does not become 3,000 jobs at once. The " +
      "next tick is computed from the tick (09:10 → 09:11), not from when the work ended.",
  );
}

/** The workshop's schedules, as `npm run step 13 -- schedules` prints them. */
async function showSchedules(out: Output, instance: StepInstance): Promise<void> {
  heading(out, "The schedules in schedules.ts");
  const reports = (await instance.scheduler?.().list()) ?? [];
  const lines = renderTable(
    ["schedule", "cron", "time zone", "job", "last tick", "next tick"],
    reports.map(({ schedule, last, nextTickAt }) => [
      schedule.name,
      schedule.cron,
      schedule.timeZone ?? "UTC",
      schedule.job,
      last?.tickAt.toISOString() ?? "never",
      nextTickAt?.toISOString() ?? "never",
    ]),
  );
  for (const line of lines) out.line(`  ${line}`);
  say(
    out,
    "npm run step 13 -- schedules prints this; npm run step 13 -- worker --processes 2 " +
      "--schedules all runs them.",
  );
}

function printPerSecond(out: Output, rows: readonly { second: Date; jobs: number }[]): void {
  const lines = renderTable(
    ["second", "jobs"],
    rows.map((row) => [row.second.toISOString().slice(11, 23), String(row.jobs)]),
  );
  for (const line of lines) out.line(`  ${line}`);
}

/**
 * The workshop's recurring jobs, declared in code: reviewed, versioned and
 * deployed with the jobs they run, as Solid Queue's `config/recurring.yml`
 * or graphile-worker's crontab are. A supervisor runs the ones its
 * `--schedules` flag names (`all` for every one).
 *
 * @module
 */
import type { RecurringSchedule } from "../../lib/step.ts";

// #region schedules
export const SCHEDULES: readonly RecurringSchedule[] = [
  {
    // Six fields, seconds first: often enough to watch it work.
    name: "heartbeat-report",
    cron: "*/10 * * * * *",
    job: "Noop",
    args: { report: "heartbeat" },
  },
  {
    // A digest every five minutes; after an outage, the last hour's missed
    // digests are sent too (12 at most), oldest first.
    name: "welcome-digest",
    cron: "*/5 * * * *",
    job: "SendWelcomeEmail",
    args: { userId: 42 },
    missedTicks: { fillUpTo: 12 },
  },
  {
    // 02:30 in Paris, whatever UTC offset Paris has that night. Missed
    // nights are skipped: one clean-up covers them all.
    name: "nightly-cleanup",
    cron: "30 2 * * *",
    timeZone: "Europe/Paris",
    job: "Sleep",
    args: { ms: 1_000 },
    missedTicks: "skip",
  },
];
// #endregion schedules

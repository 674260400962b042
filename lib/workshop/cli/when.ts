/**
 * `--at <time>` and `--in <duration>`: when a scheduled job should run.
 *
 * @module
 */
import { UsageError } from "./usage-error.ts";

/** Milliseconds in each unit a duration may be written in (`500ms`, `30s`, …). */
export const UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** The last moment a JavaScript `Date` can hold: 8.64e15 ms after 1970, in the year 275760. */
const LATEST_DATE_MS = 8.64e15;

/** `500ms`, `30s`, `10m`, `2h`, `1d` → milliseconds from now, small enough to be a date. */
export function parseDuration(text: string, usage: string): number {
  const match = /^(-?)(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  const unit = match?.[3];
  if (!match || unit === undefined) {
    throw new UsageError(
      `--in must be a duration such as 500ms, 30s, 10m, 2h or 1d, not ${JSON.stringify(text)}.`,
      usage,
    );
  }
  if (match[1] === "-") {
    throw new UsageError(
      `--in ${text} is in the past: give how long from now, such as --in 30s, or leave --in out to run the job at once.`,
      usage,
    );
  }
  const ms = Number(match[2]) * (UNITS_MS[unit] ?? 1);
  if (Date.now() + ms > LATEST_DATE_MS) {
    throw new UsageError(
      `--in ${text} is further ahead than a date can reach (the year 275760): give a shorter duration, such as --in 365d.`,
      usage,
    );
  }
  return ms;
}

/**
 * `2026-12-01T09:00:00Z`, `2026-12-01T09:00:00+02:00`, `2026-12-01T09:00`
 * (local time), `2026-12-01` (midnight UTC, as JavaScript reads it).
 */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/i;

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/**
 * An ISO 8601 time → a Date, strictly. `new Date("2026-02-30T09:00:00Z")` is
 * 2 March: JavaScript rolls an impossible date over into the next month
 * rather than refuse it. So each field is checked against the calendar
 * first — a round trip through `Date.UTC` must give back the same year,
 * month and day — and a time that does not exist is refused, saying why.
 */
export function parseTime(text: string, usage: string): Date {
  const match = ISO_TIME.exec(text.trim());
  if (!match) {
    throw new UsageError(
      `--at must be an ISO 8601 time such as 2026-12-01T09:00:00Z, not ${JSON.stringify(text)} (for a delay from now, use --in, e.g. --in 1d).`,
      usage,
    );
  }
  const [year, month, day, hour = 0, minute = 0, second = 0, zoneHours = 0, zoneMinutes = 0] = match
    .slice(1)
    .map((field) => (field === undefined ? undefined : Number(field)));
  const problem = calendarProblem(year ?? 0, month ?? 0, day ?? 0);
  const clock =
    hour > 23 || minute > 59 || second > 59 || zoneHours > 23 || zoneMinutes > 59
      ? "hours go from 00 to 23, minutes and seconds from 00 to 59"
      : undefined;
  const time = new Date(text.trim());
  const reason = problem ?? clock ?? (Number.isFinite(time.getTime()) ? undefined : "unreadable");
  if (reason !== undefined) {
    throw new UsageError(
      `--at ${text} is not a time that exists (${reason}): give one that does, such as 2026-12-01T09:00:00Z.`,
      usage,
    );
  }
  return time;
}

/** Why `year-month-day` is not on the calendar, or `undefined` if it is. */
function calendarProblem(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12) return `there is no month ${month}`;
  const roundTrip = new Date(Date.UTC(year, month - 1, day));
  if (roundTrip.getUTCMonth() === month - 1 && roundTrip.getUTCDate() === day) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${MONTHS[month - 1]} ${year} has ${daysInMonth} days`;
}

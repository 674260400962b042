/**
 * `--at <time>` and `--in <duration>`: when a scheduled job should run.
 *
 * @module
 */
import { UsageError } from "./usage-error.ts";

const UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `500ms`, `30s`, `10m`, `2h`, `1d` → milliseconds. */
export function parseDuration(text: string, usage: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  const unit = match?.[2];
  if (!match || unit === undefined) {
    throw new UsageError(
      `--in must be a duration such as 500ms, 30s, 10m, 2h or 1d, not ${JSON.stringify(text)}.`,
      usage,
    );
  }
  return Number(match[1]) * (UNITS_MS[unit] ?? 1);
}

/** An ISO 8601 time (`2026-12-01T09:00:00Z`, or local time without the zone) → a Date. */
export function parseTime(text: string, usage: string): Date {
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (!Number.isFinite(time.getTime())) {
    throw new UsageError(
      `--at must be an ISO 8601 time such as 2026-12-01T09:00:00Z, not ${JSON.stringify(text)}.`,
      usage,
    );
  }
  return time;
}

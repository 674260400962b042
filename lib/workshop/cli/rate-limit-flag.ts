/**
 * `enqueue --rate-limit N/PERIOD --rate-key KEY`: "at most N of the jobs
 * with this key start per PERIOD", for steps with rate limits (12).
 *
 * @module
 */
import type { RateLimit } from "../../step.ts";
import type { Parsed } from "./parse.ts";
import { UsageError } from "./usage-error.ts";
import { UNITS_MS } from "./when.ts";

/**
 * `10/1s`, `10/s` (one second), `100/5m`, `5/500ms`. The numbers are read as
 * written, fractions and signs included, and checked by the step with every
 * other enqueue option (`checkEnqueueOptions`): `0/1s` or `10/0.5ms` gets the
 * same error from the command line as from code.
 */
const RATE = /^(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)?(ms|s|m|h|d)$/;

/** The rate limit the flags ask for, or `undefined` when neither is given. */
export function parseRateLimitFlags(parsed: Parsed, usage: string): RateLimit | undefined {
  const rate = parsed.flags["rate-limit"];
  const key = parsed.flags["rate-key"];
  if (rate === undefined && key === undefined) return undefined;
  if (typeof rate !== "string" || typeof key !== "string") {
    throw new UsageError(
      "Give --rate-limit and --rate-key together: how many per period, and which jobs count together (e.g. --rate-limit 10/1s --rate-key token:42).",
      usage,
    );
  }
  const match = RATE.exec(rate.trim());
  const unit = match?.[3];
  if (!match || unit === undefined) {
    throw new UsageError(
      `--rate-limit must be N/PERIOD such as 10/1s, 10/s, 100/5m or 5/500ms, not ${JSON.stringify(rate)}.`,
      usage,
    );
  }
  const periods = match[2] === undefined ? 1 : Number(match[2]);
  return { key, limit: Number(match[1]), periodMs: periods * (UNITS_MS[unit] ?? 1) };
}

// Unchanged from step 08: steps/08-recovery/backoff.ts
/**
 * Retries: how many attempts a job gets, and how long to wait before each
 * retry — exponential backoff with jitter.
 *
 * @module
 */
import { InputError } from "../../lib/input-error.ts";
import type { JobRegistry } from "../../lib/jobs/registry.ts";
import type { RetryBackoff } from "../../lib/step.ts";

/**
 * How many attempts a job gets unless its definition says otherwise
 * (`maxAttempts`): the first run and 9 retries. With the default backoff
 * below, the retries are spread over about an hour and a half — enough to
 * ride out a deploy gone wrong or a partner's API being down for lunch.
 * Sidekiq defaults to 25 retries over about 21 days, made to survive a long
 * weekend nobody watches; Que to 15 retries; graphile-worker to 25 attempts.
 * Pick per job: a password-reset email is worthless after an hour, a nightly
 * export is worth retrying for days.
 */
export const DEFAULT_MAX_ATTEMPTS = 10;

/** How many attempts the job named `name` gets: its own `maxAttempts`, or the default. */
export function maxAttemptsOf(registry: JobRegistry, name: string): number {
  return registry.has(name)
    ? (registry.lookup(name).maxAttempts ?? DEFAULT_MAX_ATTEMPTS)
    : DEFAULT_MAX_ATTEMPTS;
}

/**
 * The wait before retry `n` is `min(maxMs, baseMs × 2^(n−1))`, stretched by
 * a random factor between 1 and `1 + jitter`:
 *
 * | wait after failed attempt                      | 1       | 2       | 3       | 4        | 5         | 9          |
 * | ---------------------------------------------- | ------- | ------- | ------- | -------- | --------- | ---------- |
 * | this step (before jitter, which adds 0–50 %)   | 10 s    | 20 s    | 40 s    | 80 s     | 160 s     | 43 min     |
 * | Sidekiq, `n⁴ + 15 + rand(10)·(n+1)`, n from 0 | 15–24 s | 16–34 s | 31–58 s | 96–132 s | 271–316 s | 69–70 min  |
 * | Que, `n⁴ + 3`, n from 1                        | 4 s     | 19 s    | 84 s    | 259 s    | 628 s     | 109 min    |
 *
 * **Exponential**: a job that failed because something is down should not
 * knock on it every few seconds — the first retries come quickly (a blip is
 * over fast), later ones ever more slowly. **Capped** (6 hours): without a
 * cap, doubling reaches days within a few more attempts. **Jitter**: when a
 * shared dependency fails, hundreds of jobs fail in the same second; without
 * jitter they would all retry in the same second too, every time, and knock
 * the dependency over again as it comes back. Stretching each wait by a
 * random 0–50 % spreads them out. (Sidekiq adds `rand(10)·(n+1)` seconds;
 * AWS's "full jitter" draws the whole wait at random between 0 and the cap,
 * which spreads best but can retry at once — we keep the minimum.)
 */
// #region backoff
export const DEFAULT_RETRY_BACKOFF: RetryBackoff = {
  baseMs: 10_000,
  maxMs: 6 * 60 * 60 * 1000,
  jitter: 0.5,
};

/** The wait before the retry that follows failed attempt `attempt` (from 1). */
export function backoffDelayMs(
  attempt: number,
  backoff: RetryBackoff = DEFAULT_RETRY_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1));
  return Math.round(exponential * (1 + backoff.jitter * random()));
}
// #endregion backoff

/**
 * The wait before the next attempt, or `undefined` when the job is out of
 * attempts — or when its failure is not one a retry can fix (an unknown job
 * name, unreadable arguments: see `JobOutcome`), which goes to the dead
 * queue at once. (Sidekiq retries those too, which helps during a rolling
 * deploy, when old workers do not know a new job yet; here the dead queue
 * keeps it, and `retry` puts it back once the workers know it.)
 */
export function retryDelayMs(
  attempt: number,
  maxAttempts: number,
  retryable: boolean,
  backoff: RetryBackoff = DEFAULT_RETRY_BACKOFF,
): number | undefined {
  if (!retryable || attempt >= maxAttempts) return undefined;
  return backoffDelayMs(attempt, backoff);
}

/** Settings that would never retry, or wait for nothing, are refused with what to change. */
export class RetryBackoffError extends InputError {
  override name = "RetryBackoffError";
}

export function checkRetryBackoff(backoff: RetryBackoff): RetryBackoff {
  const { baseMs, maxMs, jitter } = backoff;
  if (!(baseMs >= 1 && maxMs >= baseMs && jitter >= 0 && jitter <= 10)) {
    throw new RetryBackoffError(
      `Invalid retry backoff ${JSON.stringify(backoff)}: baseMs must be at least 1, maxMs at least baseMs, and jitter between 0 and 10.`,
    );
  }
  return backoff;
}

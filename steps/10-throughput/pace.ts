/**
 * A worker's pace (step 10): how many of its jobs ended in the last few
 * milliseconds — what tells the claiming loop how far ahead of its slots it
 * may claim (claim-loop.ts).
 *
 * @module
 */

/**
 * Counts the jobs that ended within the last `windowMs`. The times of those
 * ends are kept in order and the old ones dropped as new ones come, so it
 * holds no more entries than the worker ends jobs in one window: a few
 * hundred at 20,000 jobs a second and a 10 ms window.
 *
 * Rejected: a moving average of the rate. It remembers a burst of short
 * jobs for as long as its decay, where this forgets it one window later —
 * and forgetting fast is the point: a worker whose slots are now held by
 * long jobs must stop claiming ahead at once (see claim-loop.ts).
 */
// #region pace
export class Pace {
  readonly #windowMs: number;
  readonly #ends: number[] = [];

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** A job ended now. */
  ended(): void {
    const at = performance.now();
    this.#ends.push(at);
    this.#forgetBefore(at - this.#windowMs);
  }

  /** How many jobs ended within the last window. */
  endedLately(): number {
    this.#forgetBefore(performance.now() - this.#windowMs);
    return this.#ends.length;
  }

  #forgetBefore(cutoff: number): void {
    const firstRecent = this.#ends.findIndex((at) => at >= cutoff);
    this.#ends.splice(0, firstRecent === -1 ? this.#ends.length : firstRecent);
  }
}
// #endregion pace

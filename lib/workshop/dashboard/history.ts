/**
 * The last minute of counts, for the page's chart: jobs in each state that is
 * not an end (ready, claimed, scheduled, …) and jobs finished per second.
 *
 * Finished per second is the difference of two readings of `finished` over
 * the time between them, not a count the step keeps: every step answers
 * `counts`, so every step gets the chart, and nothing is added to a queue to
 * draw it.
 *
 * @module
 */

/** How many readings are kept: a minute at the default one-second refresh. */
const READINGS_KEPT = 60;

/** States that are an end, not a place a job waits or runs: left out of the "in each state" lines. */
const END_STATES = new Set(["finished", "failed"]);

export interface Reading {
  readonly at: number;
  readonly counts: Readonly<Record<string, number>>;
}

/** One line of the chart. */
export interface Series {
  readonly label: string;
  /** One value per reading, oldest first; `null` where there is none (the first rate). */
  readonly values: readonly (number | null)[];
}

export class CountHistory {
  #readings: Reading[] = [];

  add(reading: Reading): void {
    this.#readings.push(reading);
    if (this.#readings.length > READINGS_KEPT) this.#readings.shift();
  }

  /** Seconds before the latest reading, one per reading (≤ 0), for the x axis. */
  secondsAgo(): number[] {
    const last = this.#readings.at(-1)?.at ?? 0;
    return this.#readings.map((reading) => (reading.at - last) / 1000);
  }

  /** The count of each state a job waits or runs in, in the step's own words. */
  inFlight(): Series[] {
    const states = Object.keys(this.#readings.at(-1)?.counts ?? {}).filter(
      (state) => !END_STATES.has(state),
    );
    return states.map((state) => ({
      label: state,
      values: this.#readings.map((reading) => reading.counts[state] ?? null),
    }));
  }

  /** Jobs finished per second between each reading and the one before it. */
  finishedPerSecond(): Series {
    return {
      label: "finished / s",
      values: this.#readings.map((reading, index) => {
        const before = this.#readings[index - 1];
        const now = reading.counts.finished;
        const then = before?.counts.finished;
        if (before === undefined || now === undefined || then === undefined) return null;
        const seconds = (reading.at - before.at) / 1000;
        return seconds > 0 ? Math.max(0, now - then) / seconds : null;
      }),
    };
  }
}

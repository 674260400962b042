// Unchanged from step 08: steps/08-recovery/doorbell.ts
/**
 * How a worker's loops wait for work: until the doorbell rings, or the
 * fallback poll interval passes.
 *
 * @module
 */

/**
 * Counts rings instead of being a plain event, so that none is lost: a loop
 * notes {@link Doorbell.rings} BEFORE it looks at the queue, and after
 * finding nothing waits for a ring after that count. A notification that
 * arrives while it is looking (for a job committed just after its query
 * started) makes the wait return at once, instead of being missed until the
 * fallback poll — the race every "check, then wait" loop must close.
 */
// #region doorbell
export class Doorbell {
  #rings = 0;
  readonly #waiters = new Set<() => void>();

  /** How many times it has rung so far. */
  get rings(): number {
    return this.#rings;
  }

  /** Wakes every loop waiting, and any loop about to wait for a ring after an earlier count. */
  ring(): void {
    this.#rings++;
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves when it has rung more than `seen` times, after `timeoutMs`, or when `signal` aborts. */
  waitForRingAfter(seen: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.#rings > seen || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", wake);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      signal.addEventListener("abort", wake, { once: true });
      this.#waiters.add(wake);
    });
  }
}
// #endregion doorbell

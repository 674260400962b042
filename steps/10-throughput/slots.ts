// Unchanged from step 08: steps/08-recovery/slots.ts
/**
 * A worker's slots: how many jobs it runs at once, and which are free.
 *
 * @module
 */

/**
 * `size` numbered slots. {@link SlotPool.run} starts a job in a free slot
 * and frees it when the job's promise settles; the claiming loop waits for a
 * free slot before it claims, and claims as many jobs as there are free ones.
 *
 * Concurrency is this number, not the connection pool's size: a running job
 * holds a slot, never a connection (compare step 03, where each slot held a
 * connection for its whole job, and a pool of 5 meant 5 jobs at a time).
 */
// #region slots
export class SlotPool {
  readonly #freeSlots: number[];
  readonly #running = new Set<Promise<void>>();
  readonly #waiters = new Set<() => void>();

  constructor(size: number) {
    this.#freeSlots = Array.from({ length: size }, (_, index) => size - index); // pop() gives 1 first
  }

  /** How many slots are free now. */
  get free(): number {
    return this.#freeSlots.length;
  }

  /** Runs `work` in a free slot (numbered from 1). Call only when {@link free} > 0. */
  run(work: (slot: number) => Promise<void>): void {
    const slot = this.#freeSlots.pop();
    if (slot === undefined) throw new Error("SlotPool.run called with no free slot.");
    const running: Promise<void> = work(slot)
      .catch(() => {}) // the work reports its own errors
      .finally(() => {
        this.#running.delete(running);
        this.#freeSlots.push(slot);
        for (const wake of [...this.#waiters]) wake();
      });
    this.#running.add(running);
  }

  /** Resolves when a slot is free, or when `signal` aborts. */
  waitForFree(signal: AbortSignal): Promise<void> {
    if (this.free > 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        signal.removeEventListener("abort", wake);
        this.#waiters.delete(wake);
        resolve();
      };
      signal.addEventListener("abort", wake, { once: true });
      this.#waiters.add(wake);
    });
  }

  /** Resolves when every running job has settled. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }
}
// #endregion slots

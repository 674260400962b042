/**
 * Watching jobs run: which ran, how often, and when all are done.
 *
 * Every benchmark checks correctness while it measures: a queue that is fast
 * because it skipped jobs, or slow because it ran them twice, must say so
 * next to its number.
 *
 * @module
 */
import type { JobEvents } from "../../events.ts";

/** Whether a run did what a queue should: every job once. */
export interface RunCheck {
  readonly expected: number;
  /** Jobs that ran at least once (finished or failed). */
  readonly completed: number;
  /** Jobs that never completed. */
  readonly missing: number;
  /** Jobs that were started more than once. */
  readonly duplicates: number;
}

/** Several runs' checks as one: every job of every run counted. */
export function sumChecks(checks: readonly RunCheck[]): RunCheck {
  const total = (count: (check: RunCheck) => number) =>
    checks.reduce((sum, check) => sum + count(check), 0);
  return {
    expected: total((check) => check.expected),
    completed: total((check) => check.completed),
    missing: total((check) => check.missing),
    duplicates: total((check) => check.duplicates),
  };
}

/** Counts `started` and completion events per job id from the moment it is created. */
export class RunTracker {
  readonly #starts = new Map<string, number>();
  readonly #completed = new Set<string>();
  readonly #startedAt = new Map<string, number>();
  readonly #completionListeners = new Set<(jobId: string) => void>();
  readonly #unsubscribe: Array<() => void>;

  constructor(events: JobEvents) {
    const complete = (jobId: string) => {
      this.#completed.add(jobId);
      for (const listener of this.#completionListeners) listener(jobId);
    };
    this.#unsubscribe = [
      events.on("started", ({ jobId, at }) => {
        this.#starts.set(jobId, (this.#starts.get(jobId) ?? 0) + 1);
        if (!this.#startedAt.has(jobId)) this.#startedAt.set(jobId, at);
      }),
      events.on("finished", ({ jobId }) => complete(jobId)),
      events.on("failed", ({ jobId }) => complete(jobId)),
    ];
  }

  /** When the job was first started (epoch ms), if it was. */
  firstStart(jobId: string): number | undefined {
    return this.#startedAt.get(jobId);
  }

  /**
   * Resolves when every id has completed, or when `timeoutMs` passes (then
   * the check reports the missing ones: a benchmark never hangs). Calls
   * `onProgress` every `progressEveryMs` while it waits.
   */
  waitForAll(
    ids: readonly string[],
    timeoutMs: number,
    onProgress?: (done: number, total: number) => void,
    progressEveryMs = 2_000,
  ): Promise<void> {
    const pending = new Set(ids.filter((id) => !this.#completed.has(id)));
    if (pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let progress: NodeJS.Timeout | undefined;
      let timeout: NodeJS.Timeout | undefined;
      const onCompleted = (jobId: string) => {
        pending.delete(jobId);
        if (pending.size > 0) return;
        clearInterval(progress);
        clearTimeout(timeout);
        this.#completionListeners.delete(onCompleted);
        resolve();
      };
      this.#completionListeners.add(onCompleted);
      progress = setInterval(
        () => onProgress?.(ids.length - pending.size, ids.length),
        progressEveryMs,
      );
      timeout = setTimeout(() => {
        pending.clear();
        onCompleted("");
      }, timeoutMs);
    });
  }

  check(ids: readonly string[]): RunCheck {
    const completed = ids.filter((id) => this.#completed.has(id)).length;
    const duplicates = ids.filter((id) => (this.#starts.get(id) ?? 0) > 1).length;
    return { expected: ids.length, completed, missing: ids.length - completed, duplicates };
  }

  stop(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
  }
}

/**
 * Waiting for things to happen, instead of sleeping for a guessed time.
 *
 * @module
 */
import type { JobEventMap, JobEventName, JobEvents } from "../../lib/events.ts";
import type { StepInstance } from "../../lib/step.ts";

/** Resolves with the first `event` whose payload matches, or rejects after `timeoutMs`. */
export function nextEvent<E extends JobEventName>(
  events: JobEvents,
  event: E,
  matches: (payload: JobEventMap[E]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<JobEventMap[E]> {
  return nthEvent(events, event, matches, 1, timeoutMs);
}

/** Resolves with the `n`-th matching `event`, or rejects after `timeoutMs`. */
export function nthEvent<E extends JobEventName>(
  events: JobEvents,
  event: E,
  matches: (payload: JobEventMap[E]) => boolean,
  n: number,
  timeoutMs = 10_000,
): Promise<JobEventMap[E]> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`Saw ${seen} of ${n} matching '${event}' events within ${timeoutMs} ms.`));
    }, timeoutMs);
    const unsubscribe = events.on(event, (payload) => {
      if (!matches(payload) || ++seen < n) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(payload);
    });
  });
}

/** Polls `condition` every 20 ms until it holds, or rejects after `timeoutMs` with `description`. */
export async function eventually(
  condition: () => Promise<boolean> | boolean,
  description: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Reads `progress` — a count that grows while the work advances — every 20
 * ms until `done` holds for it, or rejects once it has not changed for
 * `stalledMs`. For a wait whose length depends on the machine's load, but in
 * which the work must never stand still: a job that is lost for good stops
 * it, and the test fails then, not at its own timeout.
 */
export async function eventuallyWhileProgressing(
  progress: () => Promise<number>,
  done: (progress: number) => Promise<boolean> | boolean,
  description: string,
  stalledMs: number,
): Promise<void> {
  let last = await progress();
  let changedAt = Date.now();
  while (!(await done(last))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = await progress();
    if (now !== last) {
      last = now;
      changedAt = Date.now();
    } else if (Date.now() - changedAt > stalledMs) {
      throw new Error(`No progress for ${stalledMs} ms (at ${now}) waiting for: ${description}`);
    }
  }
}

/**
 * Resolves as `promise` does, or rejects after `timeoutMs` with
 * `description`: for a test that asserts something happens within a
 * bound, so it fails at the bound, not at the test's own timeout.
 */
export async function within<T>(
  promise: Promise<T>,
  timeoutMs: number,
  description: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for: ${description}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A promise with its resolve function, for a job that should wait until the test says so. */
export function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * A barrier for `parties` callers: each `arrive()` waits until all have
 * arrived. Rejects after `timeoutMs` so a test whose interleaving cannot
 * happen fails instead of hanging.
 */
export function barrier(parties: number, timeoutMs = 10_000): { arrive(): Promise<void> } {
  let arrived = 0;
  const all = gate();
  return {
    arrive() {
      arrived++;
      if (arrived >= parties) all.open();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`Barrier: only ${arrived} of ${parties} arrived within ${timeoutMs} ms.`),
            ),
          timeoutMs,
        );
      });
      return Promise.race([all.opened, timeout]).finally(() => clearTimeout(timer));
    },
  };
}

/**
 * Resolves once `instance` has sent no statement (or Redis command) for
 * `quietMs` in a row: its worker's start-up or last job is over. A worker
 * that keeps polling never gets there, and this rejects after `timeoutMs`.
 */
export async function untilQuiet(
  instance: StepInstance,
  quietMs = 300,
  timeoutMs = 10_000,
): Promise<void> {
  let last = instance.statementsSent();
  let since = Date.now();
  await eventually(
    () => {
      const sent = instance.statementsSent();
      if (sent !== last) {
        last = sent;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    `no statement for ${quietMs} ms`,
    timeoutMs,
  );
}

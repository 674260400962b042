/**
 * Enqueuing a job and waiting for what happens to it, listening from before the enqueue.
 *
 * `const id = await instance.enqueue(…)` followed by `nextEvent(…, (e) => e.jobId === id)`
 * has a race that only a fast queue shows: with Redis (step 04) the worker's BRPOP reply and
 * the enqueue's own reply leave the server together, and the job can start — even finish —
 * before `enqueue` returns. A listener attached afterwards then waits for an event that has
 * already happened. With a worker already running, enqueue through this instead.
 *
 * @module
 */
import type { JsonValue } from "../../lib/jobs/arguments.ts";
import type { EnqueueOptions, StepInstance } from "../../lib/step.ts";

/**
 * Enqueues `name` with `args` and resolves with its id once `event` has been seen for it;
 * rejects after `timeoutMs` (counted from the call). `options` (queue, priority, runAt) go to
 * `enqueue` as they are.
 */
export function enqueueAndWait(
  instance: StepInstance,
  event: "started" | "finished" | "failed",
  name: string,
  args: JsonValue = {},
  timeoutMs = 10_000,
  options?: EnqueueOptions,
): Promise<string> {
  const seen = new Set<string>();
  let id: string | undefined;
  let settle: (error?: Error) => void = () => {};
  const outcome = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  const unsubscribe = instance.events.on(event, (payload) => {
    seen.add(payload.jobId);
    if (payload.jobId === id) settle();
  });
  const timer = setTimeout(
    () =>
      settle(
        new Error(
          `No '${event}' event for job ${id ?? "(not yet enqueued)"} within ${timeoutMs} ms.`,
        ),
      ),
    timeoutMs,
  );
  return instance
    .enqueue(name, args, options)
    .then((enqueuedId) => {
      id = enqueuedId;
      if (seen.has(enqueuedId)) settle();
      return outcome.then(() => enqueuedId);
    })
    .finally(() => {
      clearTimeout(timer);
      unsubscribe();
    });
}

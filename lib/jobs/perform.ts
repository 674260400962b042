/**
 * Running one job: look the name up in the registry, parse the arguments,
 * call `perform`, let the step record the outcome, then announce it.
 *
 * Every step does this the same way; what differs between steps is what they
 * do around it (which transaction, which table the outcome goes to), so this
 * part lives in `lib/` and each step passes in how it records the outcome.
 *
 * @module
 */
import { type JobEvents, now } from "../events.ts";
import { parseArguments } from "./arguments.ts";
import type { JobRegistry } from "./registry.ts";

/** A job as a worker found it in the queue. */
export interface StoredJob {
  readonly id: string;
  readonly name: string;
  /** The arguments as stored: JSON text. */
  readonly arguments: string;
}

/** What happened when a job ran. A throwing job is an outcome, not an exception. */
export type JobOutcome =
  | { readonly status: "finished"; readonly durationMs: number }
  | { readonly status: "failed"; readonly error: string; readonly stack: string | null };

/** Who runs the job, with what, and who hears about it. */
export interface PerformContext {
  readonly registry: JobRegistry;
  readonly workerId: string;
  readonly events: JobEvents;
}

/**
 * Runs `job` with the definition the registry holds for its name, hands the
 * outcome to `record` (the step's own bookkeeping: an UPDATE, a DELETE, a
 * Redis counter), and only then emits `finished` or `failed` — so whoever
 * hears the event can already see the outcome in the queue's storage.
 *
 * A job that throws, an unknown name and unreadable arguments all become a
 * `failed` outcome; only an error from `record` itself propagates.
 */
export async function performJob(
  job: StoredJob,
  context: PerformContext,
  record: (outcome: JobOutcome) => Promise<void>,
): Promise<JobOutcome> {
  const { registry, workerId, events } = context;
  const startedAt = now();
  events.emit("started", { jobId: job.id, name: job.name, workerId, at: startedAt });
  const outcome = await runPerform(job, registry, workerId, startedAt);
  await record(outcome);
  const at = now();
  if (outcome.status === "finished") {
    events.emit("finished", {
      jobId: job.id,
      name: job.name,
      workerId,
      at,
      durationMs: outcome.durationMs,
    });
  } else {
    events.emit("failed", { jobId: job.id, name: job.name, workerId, at, error: outcome.error });
  }
  return outcome;
}

async function runPerform(
  job: StoredJob,
  registry: JobRegistry,
  workerId: string,
  startedAt: number,
): Promise<JobOutcome> {
  try {
    const definition = registry.lookup(job.name);
    const args = parseArguments(job.arguments, job.id);
    await definition.perform(args, { jobId: job.id, workerId });
    return { status: "finished", durationMs: now() - startedAt };
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    return {
      status: "failed",
      error: `${error.name}: ${error.message}`,
      stack: error.stack ?? null,
    };
  }
}

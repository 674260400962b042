/**
 * A job as it travels through the Redis list: one string of JSON.
 *
 * @module
 */
import type { StoredJob } from "../../lib/jobs/perform.ts";

/**
 * `{"id":"17","name":"SendWelcomeEmail","arguments":"{\"userId\":42}","enqueuedAt":…}`.
 *
 * `arguments` stays the exact text `serializeArguments` checked, a string inside the JSON,
 * rather than an object nested in it: the worker then parses it with the same
 * `parseArguments` as every Postgres step, and arguments damaged by hand fail that one job,
 * with its id, instead of making the whole entry unreadable. (Sidekiq nests them: `"args":
 * [42]`. It reads nicer in `redis-cli`, and that is all.)
 */
export interface JobPayload extends StoredJob {
  /** Milliseconds since the epoch, when it was pushed. */
  readonly enqueuedAt: number;
  /**
   * Which attempt the next run is, from 1. A job's state is which list it is in, and its
   * history travels with it: a retry is a new entry with the attempt counted up (see
   * `acknowledge.ts`), so nothing else has to be written, or found, to count attempts.
   */
  readonly attempt: number;
}

export function encodeJob(job: JobPayload): string {
  return JSON.stringify(job);
}

/** An entry in the queue that is not a job we wrote: someone pushed it by hand, or damaged it. */
export class DamagedQueueEntryError extends Error {
  override name = "DamagedQueueEntryError";
  constructor(entry: string, reason: string) {
    const shown = entry.length > 200 ? `${entry.slice(0, 200)}…` : entry;
    super(
      `Took an entry off the queue that is not a job (${reason}): ${JSON.stringify(shown)}. It was moved to the dead queue; enqueue through the queue's enqueue, not with a bare LPUSH.`,
    );
  }
}

/** Reads an entry; throws {@link DamagedQueueEntryError} if it is not one {@link encodeJob} wrote. */
export function decodeJob(entry: string): JobPayload {
  let value: unknown;
  try {
    value = JSON.parse(entry);
  } catch (error) {
    throw new DamagedQueueEntryError(entry, error instanceof Error ? error.message : String(error));
  }
  if (
    typeof value !== "object" ||
    value === null ||
    !("id" in value && typeof value.id === "string") ||
    !("name" in value && typeof value.name === "string") ||
    !("arguments" in value && typeof value.arguments === "string")
  ) {
    throw new DamagedQueueEntryError(entry, "id, name and arguments must be strings");
  }
  const enqueuedAt =
    "enqueuedAt" in value && typeof value.enqueuedAt === "number" ? value.enqueuedAt : 0;
  const attempt =
    "attempt" in value && typeof value.attempt === "number" && value.attempt >= 1
      ? value.attempt
      : 1;
  return { id: value.id, name: value.name, arguments: value.arguments, enqueuedAt, attempt };
}

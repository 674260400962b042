/**
 * Job arguments: JSON, checked at the door.
 *
 * Arguments travel through a database column or a Redis list as text, so
 * only what survives `JSON.stringify` → `JSON.parse` unchanged may go in.
 * `JSON.stringify` itself is too forgiving for that: it turns a `Date` into a
 * string, drops `undefined` and functions, writes `NaN` as `null` and turns a
 * `Map` into `{}` — the job would later run with arguments its author never
 * passed. So {@link serializeArguments} walks the value first and refuses
 * anything that would not come back as it went in, with the path to the
 * offending part.
 *
 * @module
 */
import { ArgumentsTooLargeError, CorruptArgumentsError, InvalidArgumentsError } from "./errors.ts";

/** A value that survives a JSON round trip unchanged. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * The largest serialized arguments accepted, in bytes of UTF-8: 64 KiB.
 *
 * A job should carry identifiers, not documents: `{ orderId: 7 }`, not the
 * order. Large payloads make every queue operation slower (they are copied on
 * enqueue, on every claim and into every failure record) and go stale while
 * the job waits. 64 KiB is generous for ids and options; Sidekiq's docs give
 * the same advice ("make your job parameters small and simple").
 */
export const MAX_ARGUMENTS_BYTES = 64 * 1024;

/** Checks `args` and returns the JSON text to store. Throws instead of storing anything half-right. */
export function serializeArguments(args: unknown): string {
  assertJsonValue(args, "arguments", new Set());
  const text = JSON.stringify(args);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_ARGUMENTS_BYTES) {
    throw new ArgumentsTooLargeError(bytes, MAX_ARGUMENTS_BYTES);
  }
  return text;
}

/** Parses stored arguments. A row edited by hand into invalid JSON is reported, not crashed on. */
export function parseArguments(text: string, jobId: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new CorruptArgumentsError(jobId, error instanceof Error ? error.message : String(error));
  }
}

function assertJsonValue(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) {
        throw new InvalidArgumentsError(
          path,
          `${value} is not a JSON number (JSON has no NaN or Infinity)`,
        );
      }
      return;
    case "object":
      if (value !== null) assertJsonContainer(value, path, ancestors);
      return;
    default:
      // undefined, bigint, function, symbol
      throw new InvalidArgumentsError(path, `a ${typeof value} has no JSON form`);
  }
}

function assertJsonContainer(value: object, path: string, ancestors: Set<object>): void {
  if (ancestors.has(value)) {
    throw new InvalidArgumentsError(
      path,
      "refers back to itself (a cycle); JSON cannot represent it",
    );
  }
  ancestors.add(value);
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries())
      assertJsonValue(item, `${path}[${index}]`, ancestors);
  } else {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = value.constructor?.name ?? "object";
      throw new InvalidArgumentsError(
        path,
        `a ${kind} would not survive JSON (pass plain objects, arrays, strings, numbers, booleans or null; a Date as an ISO string)`,
      );
    }
    for (const [key, item] of Object.entries(value)) {
      assertJsonValue(item, `${path}.${key}`, ancestors);
    }
  }
  ancestors.delete(value);
}

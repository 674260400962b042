/**
 * Checking a job's arguments against what the job takes.
 *
 * `serializeArguments` makes sure arguments are JSON; a job's `arguments`
 * schema says which JSON: `{ ms: a whole number from 0 to 2147483647 }`. One
 * zod definition gives the type `perform` receives, this check, and an error
 * that names the field. The check runs twice: at enqueue, so a mistake is
 * refused before anything is stored; and in the worker, for rows that never
 * went through that enqueue (written by hand, or by an older version of the
 * job), which then fail at once instead of after every retry.
 *
 * @module
 */
import type { z } from "zod";
import type { JsonValue } from "./arguments.ts";
import { JobArgumentsError } from "./errors.ts";
import type { JobDefinition } from "./job.ts";

/**
 * `args` as the job's schema reads them, or a {@link JobArgumentsError} that
 * names each field at fault. Pass the `jobId` when checking a stored job (the
 * worker), none at enqueue: the message says which happened. A job without a
 * schema takes any JSON value, as it is.
 */
export function checkJobArguments(
  definition: JobDefinition,
  args: JsonValue,
  jobId?: string,
): JsonValue {
  if (definition.arguments === undefined) return args;
  const result = definition.arguments.safeParse(args);
  if (result.success) return result.data;
  throw new JobArgumentsError(
    definition.name,
    describeIssues(result.error),
    definition.exampleArguments,
    jobId,
  );
}

/** One line per issue, each starting with the field it is about: `user.tags[1]: …`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${fieldPath(issue.path)}: ${issue.message}`);
}

function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "the arguments";
  return path
    .map((key, index) =>
      typeof key === "number" ? `[${key}]` : `${index === 0 ? "" : "."}${String(key)}`,
    )
    .join("");
}

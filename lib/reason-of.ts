/**
 * The words of an error, for messages of our own.
 *
 * @module
 */

/**
 * The reason inside an error, for a message of ours: its own message, without the class name.
 * Node reports a refused connection to a name with several addresses ("localhost") as an
 * AggregateError with one error per address; those are listed.
 */
export function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(reasonOf).join("; ");
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * A deadline for a promise that has none of its own, so that a server which accepts a
 * connection and then never answers cannot hang the caller.
 *
 * @module
 */

/**
 * Resolves or rejects like `promise`, or rejects with `onTimeout()` after `timeoutMs`. The
 * promise itself keeps running; the caller closes whatever it was waiting on.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

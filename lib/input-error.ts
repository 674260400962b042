/**
 * Errors in what the caller asked for, as opposed to errors in the system.
 *
 * A job name nobody registered, arguments the job does not take, a priority
 * out of range, `retry` on a step without a dead queue: the caller can fix
 * these by asking differently, nothing was changed, and the message says
 * what to ask instead. A server that does not answer, a disk that is full, a
 * bug: those are not the caller's to fix by retyping. The command line tells
 * the two apart by this class — exit code 2 (the convention for a usage
 * error) and the message alone for an `InputError`, exit code 1 for the
 * rest — so every error meant for a user extends it, wherever it is thrown.
 *
 * @module
 */
export class InputError extends Error {
  override name = "InputError";
}

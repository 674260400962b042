/**
 * A command line the CLI cannot make sense of. It prints one line, the
 * usage, and exits with code 2 (the convention for usage errors), as every
 * {@link InputError} does.
 *
 * @module
 */
import { InputError } from "../../input-error.ts";

export class UsageError extends InputError {
  override name = "UsageError";
  constructor(
    message: string,
    /** The usage text of the command that was misused. */
    readonly usage: string,
  ) {
    super(message);
  }
}

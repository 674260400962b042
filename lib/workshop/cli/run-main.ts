/**
 * How every command-line entry point ends: an exit code, and for errors one
 * clear message instead of a stack trace (set `DEBUG=1` to see the stack).
 *
 * Exit code 2 for an {@link InputError} — the user asked for something the
 * command refuses, and can ask again differently — and 1 for everything else:
 * a server that does not answer, a failure on the way, a bug. Either way the
 * message alone is printed, without the error's class name: the messages are
 * written for the user, and `EnqueueOptionError:` in front says nothing more
 * to them (the stack under `DEBUG=1` starts with it, for whoever debugs).
 *
 * @module
 */
import { InputError } from "../../input-error.ts";
import { UsageError } from "./usage-error.ts";

export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`error: ${message}`);
      if (error instanceof UsageError) console.error(`\n${error.usage}`);
      if (process.env.DEBUG && error instanceof Error) console.error(error.stack);
      process.exitCode = error instanceof InputError ? 2 : 1;
    },
  );
}

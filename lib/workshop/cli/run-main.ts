/**
 * How every command-line entry point ends: an exit code, and for errors one
 * clear line instead of a stack trace (set `DEBUG=1` to see the stack).
 *
 * @module
 */
import { UsageError } from "./usage-error.ts";

export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`error: ${error.message}\n\n${error.usage}`);
        process.exitCode = 2;
        return;
      }
      const message =
        error instanceof Error
          ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}`
          : String(error);
      console.error(`error: ${message}`);
      if (process.env.DEBUG && error instanceof Error) console.error(error.stack);
      process.exitCode = 1;
    },
  );
}

/**
 * Small helpers for terminal output.
 *
 * @module
 */

/** An epoch-ms timestamp as `HH:MM:SS.mmm` local time. */
export function clock(at: number): string {
  const date = new Date(at);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * Keeps this process running when its output goes away. A worker's stdout and stderr are
 * often pipes to another process — its supervisor, `tee`, a test — and when that reader dies
 * every write fails with EPIPE. Node reports a failed write as an 'error' event on
 * `process.stdout` / `process.stderr`, and an 'error' event nobody listens to ends the process
 * with exit code 1. So a worker whose supervisor was SIGKILLed died at its next log line,
 * still holding its claims, instead of stopping as it meant to.
 *
 * A line that cannot be written is dropped, and the process goes on: its output is a courtesy
 * to whoever watches, its work is in the database. Every write error is dropped, not only
 * EPIPE (a closed terminal gives EIO): there is nowhere left to report it.
 * Rejected: exiting on EPIPE, as `yes | head` makes `yes` do — right for a filter, whose only
 * work is its output, wrong for a worker whose jobs must be finished or handed back first.
 */
export function surviveLostOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", () => {});
  }
}

/**
 * Ends this process quietly when its reader stops reading, as `yes | head` ends `yes`: for the
 * commands whose only work is their output (`diff`, `stats`, `failed`), so that
 * `npm run step 08 -- diff | head` prints its lines and no EPIPE stack trace. The opposite of
 * {@link surviveLostOutput}, which a worker needs.
 */
export function endWhenOutputCloses(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}

/**
 * Progress for anything that takes more than a few seconds.
 *
 * On a terminal the line rewrites itself; in a log (CI) it prints a line at
 * most every few seconds, so the log shows that work goes on without
 * drowning in updates.
 *
 * @module
 */

/** Reports `done / total` of a labelled task on stderr, so stdout stays the result. */
export function progressReporter(label: string): {
  update(done: number, total: number): void;
  done(): void;
} {
  const interactive = process.stderr.isTTY === true;
  let shown = false;
  return {
    update(done, total) {
      const percent = total > 0 ? Math.floor((done / total) * 100) : 0;
      const text = `  … ${label}: ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} (${percent}%)`;
      process.stderr.write(interactive ? `\r${text}\u001b[K` : `${text}\n`);
      shown = true;
    },
    done() {
      if (interactive && shown) process.stderr.write("\r\u001b[K");
    },
  };
}

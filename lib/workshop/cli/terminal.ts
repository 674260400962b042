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

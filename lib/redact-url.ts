/**
 * Printing a connection URL without its password. `DATABASE_URL` and `REDIS_URL` may point at a
 * real server with a real password; the status command and error messages must not show it.
 *
 * @module
 */

/** `postgres://app:secret@db/app` → `postgres://app:***@db/app`; unparsable input → `<unparsable URL>`. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "<unparsable URL>";
  }
  if (parsed.password !== "") parsed.password = "***";
  return parsed.toString();
}

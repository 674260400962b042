/**
 * The token that proves a POST came from a page this dashboard served.
 *
 * Without it, any web page the user visits could submit a form to
 * `http://127.0.0.1:PORT/dead/retry` — the browser sends it, the page cannot
 * read the answer but does not need to. A token chosen at random when the
 * server starts, written into each form and checked on each POST, is
 * something another origin cannot read (the same-origin policy keeps our
 * pages from it), so it cannot forge the form.
 *
 * @module
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

export class CsrfToken {
  readonly value = randomBytes(32).toString("base64url");

  /** Whether `given` is the token, compared in constant time. */
  matches(given: string | null): boolean {
    if (given === null) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.value);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

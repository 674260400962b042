/**
 * Asking a PostgreSQL server whether it is there, on a short-lived connection that can never
 * hang the caller.
 *
 * @module
 */
import pg from "pg";
import { withTimeout } from "./with-timeout.ts";

/** Resolves if PostgreSQL at `url` answers `select 1` within `timeoutMs`; rejects with the reason if not. */
export async function pingPostgres(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  // A failure after connecting (the server going away) is reported by the query's rejection.
  client.on("error", () => {});
  try {
    await withTimeout(
      client.connect().then(() => client.query("select 1")),
      timeoutMs,
      () => new Error(`no answer within ${timeoutMs / 1000} s`),
    );
  } finally {
    // end() waits for the server to close the socket; a server that never answers never does.
    await withTimeout(client.end(), 1000, () => new Error("end timed out")).catch(() => {});
  }
}

/**
 * Watching a step's connections from outside: a connection of its own, with
 * an application_name that is not the step's, looking at `pg_stat_activity`.
 *
 * Steps name their connections after their namespace (`application_name`),
 * so every row with that name is the step's — the observer's own queries
 * never show up among them.
 *
 * @module
 */
import pg from "pg";
import { onTestFinished } from "vitest";
import { testDatabaseUrl } from "../services.ts";

/** One row of `pg_stat_activity` for a connection of the step. */
export interface StepConnection {
  readonly pid: number;
  /** `active`, `idle`, `idle in transaction`, … */
  readonly state: string | null;
  /** When its current transaction began; null when none is open. */
  readonly xact_start: Date | null;
  readonly state_change: Date | null;
  /** Its current statement, or its last one when idle ('' before the first). */
  readonly query: string;
}

export interface Observer {
  /** The server's clock now (`clock_timestamp()`), to compare with the timestamps below. */
  serverTime(): Promise<Date>;
  /** Every client connection whose application_name is `namespace`. */
  connectionsOf(namespace: string): Promise<StepConnection[]>;
  /** Runs any statement (e.g. `pg_terminate_backend`). */
  query<Row extends object>(text: string, values?: unknown[]): Promise<Row[]>;
}

/** Opens an observer on the test server (or `url`); closed when the test that opened it ends. */
export async function openObserver(url = testDatabaseUrl()): Promise<Observer> {
  const client = new pg.Client({ connectionString: url, application_name: "test-observer" });
  client.on("error", () => {}); // a server restart in the test: the next query says so
  await client.connect();
  onTestFinished(async () => {
    await client.end().catch(() => {});
  });
  const query = async <Row extends object>(text: string, values?: unknown[]) =>
    (await client.query<Row>(text, values)).rows;
  return {
    query,
    async serverTime() {
      const [row] = await query<{ now: Date }>("SELECT clock_timestamp() AS now");
      if (!row) throw new Error("clock_timestamp() returned no row");
      return row.now;
    },
    connectionsOf(namespace) {
      return query<StepConnection>(
        `SELECT pid, state, xact_start, state_change, query FROM pg_stat_activity
         WHERE application_name = $1 AND backend_type = 'client backend'
         ORDER BY pid`,
        [namespace],
      );
    },
  };
}

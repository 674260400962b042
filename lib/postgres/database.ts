/**
 * A connection pool to PostgreSQL that lives in one schema and counts the
 * statements it sends.
 *
 * Every step keeps its tables in a schema of its own (`step_01`, …; tests use
 * one per test file) by setting `search_path` when a connection opens. The
 * steps' SQL then says `jobs`, not `step_01.jobs`, and two steps — or two test
 * files — never see each other's rows.
 *
 * The statement counter exists for one benchmark: how many statements an
 * idle worker sends per second. Counting on the client is exact for the
 * worker being measured; `pg_stat_statements` would count the whole server
 * and needs a server setting most machines don't have.
 *
 * @module
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { InputError } from "../input-error.ts";

/**
 * A statement each connection prepares once — parses and plans — and then
 * only executes: PostgreSQL keeps it, by `name`, for the life of the
 * connection. For a statement sent thousands of times a second whose
 * planning is a real share of its cost: step 10's enqueue, a CTE of four
 * parts, spends a quarter of a millisecond planning, as long as a bare
 * INSERT's commit on a quiet machine. `name` must be unique within a pool:
 * a connection that has prepared one text under a name refuses another.
 *
 * Rejected: preparing every statement. After five runs PostgreSQL may keep
 * one generic plan for all parameters, which suits a statement whose best
 * plan does not depend on them (step 10's: an index scan whatever the
 * values) and not every statement; and most statements here are sent a few
 * times a second, where planning costs nothing that matters.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

/** Anything that can run a statement: the pool, or one connection inside a transaction. */
export interface Sql {
  query<Row extends object = Record<string, unknown>>(
    statement: string | PreparedStatement,
    values?: readonly unknown[],
  ): Promise<Row[]>;
}

/** What pg's `query` takes, for plain text or a prepared statement. */
function queryConfig(
  statement: string | PreparedStatement,
  values: readonly unknown[] | undefined,
): pg.QueryConfig {
  const params = values ? [...values] : undefined;
  return typeof statement === "string"
    ? { text: statement, values: params }
    : { name: statement.name, text: statement.text, values: params };
}

export interface DatabaseOptions {
  /** Connection string, e.g. `postgres://postgres:postgres@127.0.0.1:54329/postgres`. */
  readonly url: string;
  /** The schema this pool works in; created by {@link Database.applySchema}. */
  readonly schema: string;
  /** Most connections the pool opens at once. */
  readonly poolSize?: number;
  /** Shown in `pg_stat_activity.application_name`, so you can tell the connections apart. */
  readonly applicationName?: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** One pool, one schema. */
export class Database implements Sql {
  readonly schema: string;
  readonly pool: pg.Pool;
  #statementsSent = 0;

  constructor(options: DatabaseOptions) {
    if (!SCHEMA_NAME.test(options.schema)) {
      throw new InputError(
        `Invalid schema name ${JSON.stringify(options.schema)}: use lowercase letters, digits and '_'.`,
      );
    }
    this.schema = options.schema;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      application_name: options.applicationName ?? "background-jobs",
      options: `-c search_path=${options.schema}`,
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection that the server drops (a restart, an admin's
    // pg_terminate_backend) emits 'error' on the pool; without a listener
    // Node would crash the process. The pool already discards that connection
    // and the next query opens a new one, so there is nothing else to do.
    this.pool.on("error", () => {});
  }

  /** Statements sent through this pool so far. */
  get statementsSent(): number {
    return this.#statementsSent;
  }

  async query<Row extends object = Record<string, unknown>>(
    statement: string | PreparedStatement,
    values?: readonly unknown[],
  ): Promise<Row[]> {
    this.#statementsSent++;
    const result = await this.pool.query<Row>(queryConfig(statement, values));
    return result.rows;
  }

  /**
   * Runs `work` inside BEGIN … COMMIT on one connection, rolling back if it
   * throws. The connection is held for as long as `work` runs — which is
   * exactly what some steps get wrong on purpose.
   */
  async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection the server drops while we hold it (a restart, an admin's
    // pg_terminate_backend) emits 'error' on the client, and an unhandled
    // 'error' event ends the process. The query in flight rejects as well,
    // and that is where the failure is handled; here we only mark the
    // connection as not to be reused.
    let broken = false;
    const markBroken = () => {
      broken = true;
    };
    client.on("error", markBroken);
    const tx: Sql = {
      query: async <Row extends object>(
        statement: string | PreparedStatement,
        values?: readonly unknown[],
      ) => {
        this.#statementsSent++;
        const result = await client.query<Row>(queryConfig(statement, values));
        return result.rows;
      },
    };
    try {
      await tx.query("BEGIN");
      const result = await work(tx);
      await tx.query("COMMIT");
      return result;
    } catch (error) {
      await tx.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      // A connection that broke, or whose ROLLBACK failed, is in an unknown
      // state; destroy it instead of handing it to the next caller.
      client.off("error", markBroken);
      client.release(broken);
    }
  }

  /**
   * Creates the schema if needed and runs `ddl` (a step's `schema.sql`) in it.
   * An advisory lock serialises two processes doing this at the same moment,
   * which `CREATE … IF NOT EXISTS` alone does not (both can pass the check).
   *
   * Only once per version of `ddl`: the schema's comment keeps a hash of the
   * DDL last applied, and an open that finds the same hash runs nothing.
   * Running it again would be harmless for the tables (`IF NOT EXISTS`), but
   * not for the workers already at work in them: `CREATE INDEX IF NOT EXISTS`
   * still takes a SHARE lock on its table before it finds the index there, one
   * table after another, and a dispatcher moving jobs between two of those
   * tables in the other order deadlocked against a worker that was starting.
   * An edited `schema.sql` (an exercise) has another hash, and is applied.
   */
  async applySchema(ddl: string): Promise<void> {
    const version = `schema.sql sha256:${createHash("sha256").update(ddl).digest("hex")}`;
    await this.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [this.schema]);
      const [applied] = await tx.query<{ version: string | null }>(
        "SELECT obj_description(oid, 'pg_namespace') AS version FROM pg_namespace WHERE nspname = $1",
        [this.schema],
      );
      if (applied?.version === version) return;
      await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await tx.query(`SET LOCAL search_path TO ${this.schema}`);
      await tx.query(ddl);
      // COMMENT takes no parameters; the version is letters, digits and ":".
      await tx.query(`COMMENT ON SCHEMA ${this.schema} IS '${version}'`);
    });
  }

  /** Drops the schema and everything in it. */
  async dropSchema(): Promise<void> {
    await this.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [this.schema]);
      await tx.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

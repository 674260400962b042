/**
 * Opening a Postgres step's database: a pool in the step's schema, with the
 * step's `schema.sql` applied.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { defaultNamespace } from "../instance.ts";
import type { OpenOptions, Step } from "../step.ts";
import { Database } from "./database.ts";

/** A step's database, and how to wipe it back to an empty schema. */
export interface StepDatabase {
  readonly database: Database;
  /** Drops the schema and applies `schema.sql` again. */
  recreate(): Promise<void>;
}

export async function openStepDatabase(
  step: Step,
  options: OpenOptions,
  schemaFile: URL,
): Promise<StepDatabase> {
  if (!options.databaseUrl) {
    throw new Error(
      `Step ${step.id} needs PostgreSQL: pass databaseUrl (the CLI resolves it from DATABASE_URL or the embedded server).`,
    );
  }
  const ddl = await readFile(schemaFile, "utf8");
  const namespace = options.namespace ?? defaultNamespace(step);
  const database = new Database({
    url: options.databaseUrl,
    schema: namespace,
    poolSize: options.poolSize,
    // The namespace doubles as application_name, so pg_stat_activity shows
    // which step (or which test) a connection belongs to.
    applicationName: namespace,
  });
  try {
    await database.applySchema(ddl);
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    database,
    async recreate() {
      await database.dropSchema();
      await database.applySchema(ddl);
    },
  };
}

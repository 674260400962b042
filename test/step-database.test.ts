/**
 * Opening a step applies its `schema.sql` once per version of it: a second
 * process that opens the step (a worker starting next to running ones) runs
 * no DDL, so it takes no lock on tables that workers are busy in.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { Database } from "../lib/postgres/database.ts";
import { step } from "../steps/08-recovery/index.ts";
import { testDatabaseUrl } from "./services.ts";
import { openForTest } from "./support/open.ts";

describe("a step's schema is applied once per version of schema.sql", () => {
  it("a second open runs no DDL: it does not wait for a lock that a running transaction holds on a table", async () => {
    const first = await openForTest(step, "reopen");
    const database = first.database;
    if (!database) throw new Error("step 08 has a database");
    // A worker at work: a transaction holding ROW EXCLUSIVE on
    // ready_executions, as every claim and enqueue does. `CREATE INDEX IF NOT
    // EXISTS` needs a SHARE lock on the table, which waits for this one.
    await database.transaction(async (tx) => {
      await tx.query("LOCK TABLE ready_executions IN ROW EXCLUSIVE MODE");
      const second = await step.open({
        databaseUrl: testDatabaseUrl(),
        namespace: first.namespace,
      });
      await second.close();
    });
  });

  it("an edited schema.sql is applied at the next open", async () => {
    const first = await openForTest(step, "edited");
    const edited = new Database({ url: testDatabaseUrl(), schema: first.namespace });
    onTestFinished(() => edited.close());
    await edited.applySchema("CREATE TABLE IF NOT EXISTS exercise_notes (note text);");
    const [table] = await edited.query<{ exists: boolean }>(
      "SELECT to_regclass('exercise_notes') IS NOT NULL AS exists",
    );
    expect(table?.exists).toBe(true);
  });
});

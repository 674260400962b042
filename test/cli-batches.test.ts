/**
 * `npm run step 14 -- batches`, run as a user runs it: create, enqueue into
 * it, seal, list; and the refusals, which change nothing.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { Database } from "../lib/postgres/database.ts";
import { testDatabaseUrl } from "./services.ts";
import { runStepCommand } from "./support/cli.ts";

const namespace = `tcli_batches_${randomBytes(3).toString("hex")}`;
const inNamespace = ["--namespace", namespace];

afterAll(async () => {
  for (const schema of [namespace, `${namespace}_08`]) {
    const database = new Database({ url: testDatabaseUrl(), schema });
    await database.dropSchema();
    await database.close();
  }
});

describe("npm run step 14 -- batches", () => {
  it("creates a batch, adds jobs with enqueue --batch, seals it, and lists it with its counts", async () => {
    const created = await runStepCommand(
      "14",
      "batches",
      "create",
      "--on-finish",
      "Noop",
      ...inNamespace,
    );
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.match(/^Created batch (\d+), open\./)?.[1];
    expect(id, created.stdout).toBeDefined();
    const enqueued = await runStepCommand(
      "14",
      "enqueue",
      "Noop",
      "{}",
      "--count",
      "3",
      "--batch",
      String(id),
      ...inNamespace,
    );
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const sealed = await runStepCommand("14", "batches", "seal", String(id), ...inNamespace);
    expect(sealed.code, sealed.stderr).toBe(0);
    expect(sealed.stdout).toContain(`Sealed batch ${id}: no job can be added now`);
    const listed = await runStepCommand("14", "batches", "--json", ...inNamespace);
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { id, total: 3, pending: 3, succeeded: 0, dead: 0, sealed: true, completedAt: null },
    ]);
    // Sealed: nothing more goes in.
    const late = await runStepCommand(
      "14",
      "enqueue",
      "Noop",
      "{}",
      "--batch",
      String(id),
      ...inNamespace,
    );
    expect(late.code).toBe(2);
    expect(late.stderr.split("\n")[0]).toMatch(/sealed/);
  });

  it("says a step without batches has none, and creates nothing", async () => {
    const refused = await runStepCommand(
      "08",
      "batches",
      "create",
      "--namespace",
      `${namespace}_08`,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr.split("\n")[0]).toMatch(/^error: Step 08 has no batches/);
    const database = new Database({ url: testDatabaseUrl(), schema: "public" });
    try {
      const [schema] = await database.query<{ exists: boolean }>(
        "SELECT to_regnamespace($1) IS NOT NULL AS exists",
        [`${namespace}_08`],
      );
      expect(schema?.exists).toBe(false);
    } finally {
      await database.close();
    }
  });
});

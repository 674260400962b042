/**
 * Opening a step for a test: its own namespace, dropped when the test ends, so
 * test files run in parallel without seeing each other's jobs, and a run leaves
 * nothing behind in the database (the user's own, when DATABASE_URL is set).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { onTestFinished } from "vitest";
import type { Step, StepInstance } from "../../lib/step.ts";
import { testDatabaseUrl, testRedisUrl } from "../services.ts";

/**
 * Opens `step` in a fresh namespace; closes it and removes its data when the test that called
 * this ends, passed or failed. Call it inside a test: vitest 4 never runs an `afterAll`
 * registered there, which is how every run once left ~150 schemas behind.
 */
export async function openForTest(step: Step, label: string): Promise<StepInstance> {
  const namespace = `t${step.id}_${label}_${randomBytes(3).toString("hex")}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_");
  const instance = await step.open({
    databaseUrl: step.backend === "postgres" ? testDatabaseUrl() : undefined,
    redisUrl: step.backend === "redis" ? testRedisUrl() : undefined,
    namespace,
  });
  onTestFinished(async () => {
    // A Postgres step's data is its schema: drop it whole. Not `reset()`,
    // which steps 06–08 refuse while a process looks alive — as one a test
    // has just SIGKILLed does, until its threshold passes. A Redis step's
    // data is its keys, which `reset()` deletes.
    if (instance.database) await instance.database.dropSchema();
    else await instance.reset();
    await instance.close();
  });
  return instance;
}

/**
 * Opening a step for a test: its own namespace, dropped afterwards, so test
 * files run in parallel without seeing each other's jobs.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { afterAll } from "vitest";
import type { Step, StepInstance } from "../../lib/step.ts";
import { testDatabaseUrl, testRedisUrl } from "../services.ts";

/** Opens `step` in a fresh namespace; closes it and removes its data after the file's tests. */
export async function openForTest(step: Step, label: string): Promise<StepInstance> {
  const namespace = `t${step.id}_${label}_${randomBytes(3).toString("hex")}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_");
  const instance = await step.open({
    databaseUrl: step.backend === "postgres" ? testDatabaseUrl() : undefined,
    redisUrl: step.backend === "redis" ? testRedisUrl() : undefined,
    namespace,
  });
  afterAll(async () => {
    await instance.reset();
    await instance.database?.dropSchema();
    await instance.close();
  });
  return instance;
}

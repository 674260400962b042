/**
 * The servers this test run uses, as chosen by `test/global-setup.ts` (DATABASE_URL /
 * REDIS_URL, else Docker, else the local servers). Call these inside tests or hooks.
 *
 * @module
 */
import { inject } from "vitest";

/** The PostgreSQL URL for this test run. */
export function testDatabaseUrl(): string {
  return inject("databaseUrl");
}

/** The Redis URL for this test run. */
export function testRedisUrl(): string {
  return inject("redisUrl");
}

/**
 * The servers this test run uses, as chosen by `test/global-setup.ts` (DATABASE_URL /
 * REDIS_URL, else Docker, else the local servers). Call these inside tests or hooks.
 *
 * A run may have no Redis (a machine with only Node.js). A test asks for it by calling
 * {@link testRedisUrl} — directly, or through `openForTest` on step 04 — and is then skipped,
 * with a note the run's last lines list (`test/support/redis-report.ts`); under CI it fails.
 * Asking is the whole declaration: a test cannot forget to say it needs Redis and then fail
 * for want of it.
 *
 * @module
 */
import { inject, TestRunner } from "vitest";
import { HOW_TO_GET_REDIS } from "../lib/workshop/services/errors.ts";
import { NO_REDIS, NO_REDIS_SERVER_PROGRAM } from "./support/redis-report.ts";

/** The PostgreSQL URL for this test run. */
export function testDatabaseUrl(): string {
  return inject("databaseUrl");
}

/** The Redis URL for this test run; a test that calls this without one is skipped (or fails, in CI). */
export function testRedisUrl(): string {
  return inject("redisUrl") ?? withoutRedis(NO_REDIS);
}

/** The Redis URL when this run has one: for a command that may use Redis but does not need it. */
export function testRedisUrlIfAny(): string | undefined {
  return inject("redisUrl") ?? undefined;
}

/** For a test that starts a `redis-server` of its own: skipped (or fails, in CI) without one. */
export function requireRedisServerProgram(): void {
  if (!inject("redisServerProgram")) withoutRedis(NO_REDIS_SERVER_PROGRAM);
}

/** Thrown where a missing Redis must fail the test: CI=true or REQUIRE_REDIS=1. */
export class RedisRequiredError extends Error {
  override name = "RedisRequiredError";
  constructor(note: string) {
    super(
      `This test ${note}, and CI=true or REQUIRE_REDIS=1 says every test must run.\n${HOW_TO_GET_REDIS}`,
    );
  }
}

function withoutRedis(note: string): never {
  if (inject("redisRequired")) throw new RedisRequiredError(note);
  const test = TestRunner.getCurrentTest();
  if (!test) {
    throw new Error(`Asked for Redis outside a test (${note}): ask inside the test that needs it.`);
  }
  return test.context.skip(note);
}

/**
 * The last lines of a test run without Redis: which tests did not run, and how to get Redis.
 * A vitest reporter (listed in `vitest.config.ts`, after the default one, so its lines come
 * last); it prints nothing when every test had what it needed.
 *
 * @module
 */
import type { Reporter, TestModule } from "vitest/node";
import { HOW_TO_GET_REDIS } from "../../lib/workshop/services/errors.ts";

/** The skip notes of tests that did not run for want of Redis (see `test/services.ts`). */
export const NO_REDIS = "needs Redis";
export const NO_REDIS_SERVER_PROGRAM = "needs a redis-server program on the PATH to start its own";

export default class RedisReport implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    for (const testModule of testModules) {
      for (const test of testModule.children.allTests()) {
        const result = test.result();
        if (result.state !== "skipped") continue;
        if (result.note !== NO_REDIS && result.note !== NO_REDIS_SERVER_PROGRAM) continue;
        skipped.push(`  ${testModule.relativeModuleId} > ${test.fullName} (${result.note})`);
      }
    }
    if (skipped.length === 0) return;
    console.log(
      [
        "",
        `${skipped.length} Redis test(s) did not run: this run has no Redis.`,
        ...skipped,
        HOW_TO_GET_REDIS,
        "Then run npm test again. (CI=true or REQUIRE_REDIS=1 makes a missing Redis fail the run.)",
      ].join("\n"),
    );
  }
}

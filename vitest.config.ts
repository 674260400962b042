import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    include: ["test/**/*.test.ts", "steps/**/*.test.ts"],
    // The default report, then the Redis tests that did not run (in a run without Redis), if any.
    reporters: ["default", "./test/support/redis-report.ts"],
    // Test files run in parallel, each in its own schema / key prefix. The
    // machine has 2 cores; more workers than that only adds contention.
    maxWorkers: 2,
    // The one file with concurrent tests, test/finish-outage.test.ts, runs
    // a test per step that claims jobs (nine) through one outage, which is
    // waiting: all at once, not five (vitest's default) and then four.
    maxConcurrency: 10,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});

/**
 * The test run of `npm run practice NN -- check`: the project's own
 * configuration (global setup, servers, timeouts), where the practice folders'
 * test files can be named too. `npm test` does not use it, so it never runs
 * an attendee's folder.
 *
 * @module
 */
import { defineConfig, mergeConfig } from "vitest/config";
import { REPO_ROOT } from "../lib/paths.ts";
import project from "../vitest.config.ts";

export default mergeConfig(
  project,
  defineConfig({
    root: REPO_ROOT,
    test: { include: ["{practice,.practice-proof}/[0-9][0-9]-*/*.test.ts"] },
  }),
);

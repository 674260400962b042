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
import StepTestsFirst from "./support/step-tests-first.ts";

export default mergeConfig(
  project,
  defineConfig({
    root: REPO_ROOT,
    test: {
      include: ["{practice,.practice-proof}/[0-9][0-9]-*/*.test.ts"],
      // The step's own (long) tests first: see step-tests-first.ts.
      sequence: { sequencer: StepTestsFirst },
      // The files a test worker runs share its modules, rather than each
      // importing the step, pg and vitest's helpers again: a check is a score
      // of contract files of well under a second each for one step, and on
      // step 08 (2 cores) the time between two of them went from about 1 s
      // to a few tenths. It is safe for these files: each opens its own
      // instance, in a schema of its own, and closes it. `npm test` keeps
      // vitest's default, a fresh set of modules for every file.
      isolate: false,
    },
  }),
);

/**
 * Creating a practice folder: the base step's queue code, its `index.ts`
 * renamed to the target (see step-identity.ts), the target's tests that
 * grade it (see graded-tests.ts), and `TODO.md`.
 *
 * Not copied from the base: its lesson, its demonstration (`demo/`: a story
 * and a benchmark about the base) and its own tests, which test the base's
 * insides — the attendee is about to change them.
 *
 * @module
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Exercise } from "./exercise.ts";
import { gradedTests } from "./graded-tests.ts";
import { withTargetIdentity } from "./step-identity.ts";
import { renderTodo, TODO_FILE } from "./todo.ts";

/** What the base's folder holds that is not its queue code. */
const NOT_COPIED = /^(README\.md|demo(\/.*)?|.*\.test\.ts)$/;

/** Makes the practice folder afresh (whatever was there is removed). */
export function createPracticeFolder(exercise: Exercise): void {
  const { folder, baseFolder, base, target } = exercise;
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  cpSync(baseFolder, folder, {
    recursive: true,
    filter: (source) => {
      const path = relative(baseFolder, source).split("\\").join("/");
      return path === "" || !NOT_COPIED.test(path);
    },
  });
  const index = join(folder, "index.ts");
  writeFileSync(index, withTargetIdentity(readFileSync(index, "utf8"), base, target));
  const tests = copyGradedTests(exercise);
  writeFileSync(join(folder, TODO_FILE), renderTodo(exercise, tests));
}

/**
 * Copies the reference's grading tests into the practice folder, over any
 * edited copy: the grade is the reference's tests, not the attendee's.
 * Returns their file names.
 */
export function copyGradedTests({ referenceFolder, folder }: Exercise): string[] {
  const tests = gradedTests(referenceFolder);
  for (const test of tests) copyFileSync(join(referenceFolder, test), join(folder, test));
  return tests;
}

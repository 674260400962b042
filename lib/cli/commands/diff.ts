/**
 * `npm run step NN -- diff`: the lesson as a diff. What a step changed in the
 * code of the step it builds on — its schema and its queue code; the lesson
 * text, story, benchmark and tests are left out, since they are about the
 * step rather than part of it.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import { type Step, stepFolder } from "../../step.ts";

const NOT_THE_LESSON_CODE = /^(README\.md|story\.ts|bench\.ts|.*\.test\.ts)$/;

export function runDiffCommand(step: Step, base: Step | undefined): number {
  if (!base) {
    console.log(
      `Step ${step.id} builds on nothing: there is no earlier step's code to diff against. Read its code in steps/${stepFolder(step)}/.`,
    );
    return 0;
  }
  const from = join(REPO_ROOT, "steps", stepFolder(base));
  const to = join(REPO_ROOT, "steps", stepFolder(step));
  const files = new Set([...lessonFiles(from), ...lessonFiles(to)]);
  const fromFiles = new Set(lessonFiles(from));
  const toFiles = new Set(lessonFiles(to));
  console.log(
    `What step ${step.id} changed in the code of step ${base.id} (${[...files].length} files compared):\n`,
  );
  for (const file of [...files].sort()) {
    const left = fromFiles.has(file) ? relative(REPO_ROOT, join(from, file)) : "/dev/null";
    const right = toFiles.has(file) ? relative(REPO_ROOT, join(to, file)) : "/dev/null";
    // git diff --no-index works outside a repository too, and colours when
    // stdout is a terminal.
    const result = spawnSync("git", ["diff", "--no-index", "--color=auto", "--", left, right], {
      cwd: REPO_ROOT,
      stdio: "inherit",
    });
    if (result.error) {
      console.error(
        `Could not run git diff: ${result.error.message}. Install git, or compare ${from} and ${to}.`,
      );
      return 1;
    }
  }
  return 0;
}

function lessonFiles(folder: string): string[] {
  return readdirSync(folder).filter((file) => !NOT_THE_LESSON_CODE.test(file));
}

/**
 * The exercises' `Check:` lines, read from the lessons, so that what a lesson tells an
 * attendee to run and what CI runs (`test/exercises.test.ts`) are the same text.
 *
 * A numbered exercise in a lesson's "## Exercises" section checks itself with one line:
 *
 *   Check: `npx vitest run steps/02-ready-executions -t "second worker"` passes on the step as committed and fails once you have done it.
 *
 * or `fails on the step as committed and passes once you have done it.` — the check flips
 * between the step as committed and the step with the exercise done, in the direction the
 * line says. (A "break it" exercise says the first; a "build it" exercise the second.)
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../paths.ts";

export interface ExerciseCheck {
  /** `02-ready-executions` */
  readonly stepFolder: string;
  /** The exercise's number in its lesson, from 1. */
  readonly exercise: number;
  /** The exercise's bold title. */
  readonly title: string;
  /** The shell command, run from the repository's root. */
  readonly command: string;
  /** What the command does on the step as committed: exit 0 (`passes`) or not (`fails`). */
  readonly onCommitted: "passes" | "fails";
  /** Whether the exercise states what to expect in an `Expected:` line. */
  readonly hasExpected: boolean;
}

const CHECK =
  /Check: `([^`]+)` (passes|fails) on the step as committed and (passes|fails) once you have done it\./;

/** The checks of every lesson in `steps/`, in step and exercise order. */
export function readExerciseChecks(root: string = REPO_ROOT): ExerciseCheck[] {
  const folders = readdirSync(join(root, "steps")).filter((name) => /^\d\d-/.test(name));
  return folders.sort().flatMap((folder) => {
    const lesson = readFileSync(join(root, "steps", folder, "README.md"), "utf8");
    return readExercises(lesson).map((exercise) => ({ stepFolder: folder, ...exercise }));
  });
}

/** The numbered exercises of one lesson; one without a `Check:` line is an error. */
export function readExercises(lesson: string): Omit<ExerciseCheck, "stepFolder">[] {
  const section = lesson.split(/^## Exercises$/m)[1]?.split(/^(?:## |---$)/m)[0];
  if (section === undefined) return [];
  // Each exercise starts at "N. **Title.**" at the start of a line; its text runs to the next.
  const starts = [...section.matchAll(/^(\d+)\. \*\*(.+?)\*\*/gm)];
  return starts.map((start, index) => {
    const text = section.slice(start.index, starts[index + 1]?.index ?? section.length);
    const title = start[2] ?? "";
    const check = CHECK.exec(text.replace(/\s+/g, " "));
    if (!check?.[1] || !check[2] || !check[3] || check[2] === check[3]) {
      throw new Error(
        `Exercise ${start[1]} (${title}) has no Check line that flips: "Check: \`command\` passes on the step as committed and fails once you have done it." (or fails … passes …)`,
      );
    }
    return {
      exercise: Number(start[1]),
      title,
      command: check[1],
      onCommitted: check[2] as "passes" | "fails",
      hasExpected: /(^|\n)\s*Expected: \S/.test(text),
    };
  });
}

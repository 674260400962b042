/**
 * `TODO.md`, the attendee's sheet in their practice folder: the guarantees to
 * reach, the lesson's sections to read, the commands, and the hints revealed
 * so far. The hints shown are the file's own state: `-- hint` appends the
 * next one, so deleting a hint from the file hides it again, and `-- reset`
 * starts with none.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GUARANTEES, type Guarantee } from "../../step.ts";
import { GUARANTEE_HEADINGS } from "../docs/guarantees-matrix.ts";
import { type Exercise, shown } from "./exercise.ts";
import { hintsFor } from "./hints.ts";
import { describeSection, lessonOf, sectionFor, WHAT_IS_STILL_WRONG } from "./lesson-sections.ts";

export const TODO_FILE = "TODO.md";
const HINT_HEADING = /^### Hint (\d+)$/gm;

/** The guarantees of the target that its base does not declare: the exercise's goal. */
export function newGuarantees({ target, base }: Exercise): Guarantee[] {
  return target.guarantees.filter((guarantee) => !base.guarantees.includes(guarantee));
}

/** The base's guarantees the target gives up (step 05 gives up surviving a crash). */
export function givenUp({ target, base }: Exercise): Guarantee[] {
  return base.guarantees.filter((guarantee) => !target.guarantees.includes(guarantee));
}

export function renderTodo(exercise: Exercise, gradedTests: readonly string[]): string {
  const { target, base } = exercise;
  const n = target.id;
  const kept = target.guarantees.filter((guarantee) => base.guarantees.includes(guarantee));
  const line = (guarantee: Guarantee) =>
    `${GUARANTEE_HEADINGS[guarantee]}: ${GUARANTEES[guarantee]}. Read ${describeSection(sectionFor(exercise, guarantee))}.`;
  return [
    `# Practice: build step ${n} (${target.slug}) from step ${base.id} (${base.slug})`,
    "",
    `This folder holds step ${base.id}'s code, renamed to step ${n}: its \`index.ts\` declares step ${n}'s`,
    `guarantees, which step ${base.id}'s code does not keep yet. Change the code until`,
    `\`npm run practice ${n} -- check\` passes. The lesson is ${lessonOf(exercise)}; the reference`,
    `code is in ${shown(exercise.referenceFolder)}/ — try not to look until check passes.`,
    "",
    "## The guarantees to reach",
    "",
    ...newGuarantees(exercise).map((guarantee) => `- [ ] ${line(guarantee)}`),
    "",
    `To keep, as step ${base.id} did: ${kept.map((guarantee) => GUARANTEE_HEADINGS[guarantee]).join(", ")}.`,
    ...(givenUp(exercise).length > 0
      ? [
          "",
          `Given up by step ${n}, as its lesson explains in "${WHAT_IS_STILL_WRONG}": ` +
            `${givenUp(exercise)
              .map((guarantee) => GUARANTEE_HEADINGS[guarantee])
              .join(", ")}. ` +
            "check shows it if your code still keeps it; that does not fail the check.",
        ]
      : []),
    "",
    "## Graded by",
    "",
    `- the contract suite (\`test/contract/\`), holding this folder to step ${n}'s guarantees;`,
    gradedTests.length > 0
      ? `- step ${n}'s own tests that use the step only through its contract: ${gradedTests.join(", ")}` +
        " (copied here from the reference by check, each time: edit your code, not them)."
      : `- step ${n}'s own tests all look inside the reference's files, so they do not grade yours.`,
    "",
    "## Commands",
    "",
    "```sh",
    `npm run practice ${n} -- check     # the guarantees your code keeps, and what to read for the others`,
    `npm run practice ${n} -- hint      # the next hint, added below`,
    `npm run practice ${n} -- diff      # your changes to step ${base.id}'s code`,
    `npm run practice ${n} -- compare   # your code against step ${n}'s`,
    `npm run practice ${n} -- bench     # the standard benchmark, yours next to step ${n}'s`,
    `npm run practice ${n} -- reset     # back to step ${base.id}'s code (your changes are lost)`,
    "```",
    "",
    "## Hints",
    "",
    `${hintsFor(exercise).length} hints, revealed one at a time by \`npm run practice ${n} -- hint\`.`,
    "",
  ].join("\n");
}

/** Appends the next hint to the folder's TODO.md; returns it and its number, or none when all are shown. */
export function revealNextHint(
  exercise: Exercise,
): { number: number; of: number; hint: string } | undefined {
  const file = join(exercise.folder, TODO_FILE);
  const todo = readFileSync(file, "utf8");
  const shownAlready = [...todo.matchAll(HINT_HEADING)].length;
  const hints = hintsFor(exercise);
  const hint = hints[shownAlready];
  if (hint === undefined) return undefined;
  const number = shownAlready + 1;
  writeFileSync(file, `${todo.trimEnd()}\n\n### Hint ${number}\n\n${hint}\n`);
  return { number, of: hints.length, hint };
}

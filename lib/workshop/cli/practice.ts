/**
 * `npm run practice NN [-- check|hint|diff|compare|bench|reset]`: build a
 * step yourself, from the step it builds on, graded by the contract suite.
 * The work is in `lib/workshop/practice/`; this file reads the command line.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import { runPracticeBench } from "../practice/bench.ts";
import { createPracticeFolder } from "../practice/create.ts";
import {
  type Exercise,
  exerciseFor,
  practisable,
  requireFolder,
  shown,
} from "../practice/exercise.ts";
import { grade, passes } from "../practice/grade.ts";
import { renderGrade } from "../practice/grade-report.ts";
import { revealNextHint, TODO_FILE } from "../practice/todo.ts";
import { loadStepFrom, loadSteps } from "../step-directory.ts";
import { printFolderDiff } from "./commands/diff.ts";
import { parseFlags } from "./parse.ts";
import { runMain } from "./run-main.ts";
import { UsageError } from "./usage-error.ts";

const COMMANDS = ["check", "hint", "diff", "compare", "bench", "reset"] as const;
type Command = (typeof COMMANDS)[number];

function usage(ids: readonly string[]): string {
  return [
    "Usage: npm run practice NN [-- check|hint|diff|compare|bench [--quick]|reset]",
    "",
    "Build step NN yourself, from the code of the step it builds on, in",
    "practice/NN-slug/ (ignored by git). The contract suite grades it.",
    "",
    "  npm run practice 05               create practice/05-claims/ from step 03's code,",
    "                                    with step 05's guarantees to reach, and TODO.md",
    "  npm run practice 05 -- check      which guarantees your code keeps (✓) and not yet (✗),",
    "                                    with the failing test and the lesson section to read",
    "  npm run practice 05 -- hint       the next hint, added to TODO.md",
    "  npm run practice 05 -- diff       your changes to the base step's code",
    "  npm run practice 05 -- compare    your code against the reference step's",
    "  npm run practice 05 -- bench      the standard benchmark, yours next to the reference",
    "                                    (--quick: small sizes, in seconds)",
    "  npm run practice 05 -- reset      start again from the base step's code",
    "",
    `Steps you can practise: ${ids.join(", ")} (the others build on no earlier step).`,
  ].join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  const steps = await loadSteps();
  const text = usage(practisable(steps));
  const parsed = parseFlags(argv, { quick: { type: "boolean" } }, text, 2);
  const [query, command] = parsed.positionals;
  if (parsed.flags.help || query === "help") {
    console.log(text);
    return 0;
  }
  if (query === undefined) throw new UsageError("Which step do you want to build?", text);
  if (command !== undefined && !COMMANDS.includes(command as Command)) {
    throw new UsageError(`Unknown command ${JSON.stringify(command)}.`, text);
  }
  if (parsed.flags.quick && command !== "bench") {
    throw new UsageError("--quick goes with bench only.", text);
  }
  const exercise = exerciseFor(steps, query);
  switch (command as Command | undefined) {
    case undefined:
      return create(exercise);
    case "reset":
      requireFolder(exercise);
      createPracticeFolder(exercise);
      console.log(
        `${shown(exercise.folder)} is step ${exercise.base.id}'s code again, with a fresh ${TODO_FILE}: your changes are gone.`,
      );
      return 0;
    case "check":
      return check(exercise);
    case "hint":
      return hint(exercise);
    case "diff":
      requireFolder(exercise);
      return printFolderDiff({
        root: REPO_ROOT,
        from: exercise.baseFolder,
        to: exercise.folder,
        scope: "queue",
        heading: `What you changed in step ${exercise.base.id}'s code (${shown(exercise.baseFolder)} → ${shown(exercise.folder)}):`,
      });
    case "compare":
      requireFolder(exercise);
      return printFolderDiff({
        root: REPO_ROOT,
        from: exercise.folder,
        to: exercise.referenceFolder,
        scope: "queue",
        heading: `Your code against step ${exercise.target.id}'s (${shown(exercise.folder)} → ${shown(exercise.referenceFolder)}):`,
      });
    case "bench":
      requireFolder(exercise);
      await runPracticeBench(
        await loadStepFrom(exercise.folder),
        exercise.target,
        parsed.flags.quick === true,
      );
      return 0;
  }
}

function create(exercise: Exercise): number {
  const { target, base } = exercise;
  const where = shown(exercise.folder);
  if (existsSync(exercise.folder)) {
    console.log(
      `${where} already exists: your work is kept. Read ${where}/${TODO_FILE}, or start again with: npm run practice ${target.id} -- reset`,
    );
    return 0;
  }
  createPracticeFolder(exercise);
  console.log(
    [
      `Created ${where}/: step ${base.id}'s code, renamed to step ${target.id} and declaring step ${target.id}'s guarantees.`,
      `Read ${join(where, TODO_FILE)}: the guarantees to reach and the lesson sections to read. Then:`,
      `  npm run practice ${target.id} -- check   # what your code keeps already, and what not yet`,
    ].join("\n"),
  );
  return 0;
}

function check(exercise: Exercise): number {
  requireFolder(exercise);
  console.log(
    `Running the contract suite against ${shown(exercise.folder)} and step ${exercise.target.id}'s own contract-only tests (up to a minute)…`,
  );
  const result = grade(exercise);
  for (const line of renderGrade(exercise, result)) console.log(line);
  return passes(result) ? 0 : 1;
}

function hint(exercise: Exercise): number {
  requireFolder(exercise);
  const next = revealNextHint(exercise);
  if (!next) {
    console.log(
      `No more hints: they are all in ${shown(exercise.folder)}/${TODO_FILE}. The reference is ${shown(exercise.referenceFolder)}/ (npm run practice ${exercise.target.id} -- compare).`,
    );
    return 0;
  }
  console.log(
    `Hint ${next.number} of ${next.of} (added to ${shown(exercise.folder)}/${TODO_FILE}):\n`,
  );
  console.log(next.hint);
  return 0;
}

runMain(() => main(process.argv.slice(2)));

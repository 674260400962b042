/**
 * A practice exercise: which step an attendee builds, from which step's code,
 * and where their folder is. `npm run practice 05` is "build step 05 from step
 * 03 in `practice/05-claims/`".
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { InputError } from "../../input-error.ts";
import { REPO_ROOT } from "../../paths.ts";
import { type Step, stepFolder } from "../../step.ts";
import { findStep } from "../step-directory.ts";

/**
 * Where attendees' folders go: ignored by git, and one level below the
 * repository's root like `steps/`, so that a step's `../../lib/…` imports
 * work unchanged in a copy.
 */
export const PRACTICE_ROOT = join(REPO_ROOT, "practice");

export interface Exercise {
  /** The step to build: its guarantees are the goal, its code is the reference. */
  readonly target: Step;
  /** The step whose code the practice folder starts from (`target.buildsOn`). */
  readonly base: Step;
  /** The practice folder, e.g. `<repo>/practice/05-claims`. */
  readonly folder: string;
  /** The reference step's folder, e.g. `<repo>/steps/05-claims`. */
  readonly referenceFolder: string;
  readonly baseFolder: string;
}

/** Asked for a step that practice mode cannot give. */
export class PracticeTargetError extends InputError {
  override name = "PracticeTargetError";
}

/** The exercise of building `query` (`05`, `5`, `05-claims`, `claims`), in `root`. */
export function exerciseFor(
  steps: readonly Step[],
  query: string,
  root: string = PRACTICE_ROOT,
): Exercise {
  const target = findStep(steps, query);
  if (!target) {
    throw new PracticeTargetError(
      `Unknown step ${JSON.stringify(query)}. Steps you can practise: ${practisable(steps).join(", ")}.`,
    );
  }
  const base = target.buildsOn === null ? undefined : findStep(steps, target.buildsOn);
  if (!base) {
    throw new PracticeTargetError(
      `Step ${target.id} builds on no earlier step: there is no code to start from, so there is nothing to practise. ` +
        `Read steps/${stepFolder(target)}/ and run it (npm run step ${target.id}). ` +
        `Steps you can practise: ${practisable(steps).join(", ")}.`,
    );
  }
  if (addsNoGuarantee(target, base)) {
    throw new PracticeTargetError(
      `Step ${target.id} keeps step ${base.id}'s guarantees and adds none: what it changes is speed, ` +
        "which a benchmark measures, not the contract suite, so check could not tell your code from step " +
        `${base.id}'s. Read steps/${stepFolder(target)}/, then compare the two with npm run bench -- --steps ${base.id},${target.id}. ` +
        `Steps you can practise: ${practisable(steps).join(", ")}.`,
    );
  }
  return {
    target,
    base,
    folder: join(root, stepFolder(target)),
    referenceFolder: join(REPO_ROOT, "steps", stepFolder(target)),
    baseFolder: join(REPO_ROOT, "steps", stepFolder(base)),
  };
}

/**
 * The ids of the steps practice mode can give: those that build on another and promise
 * something it does not. (Step 10 promises exactly 08's guarantees, faster: the contract suite
 * passes on 08's code as it stands, so it could not grade an attempt.)
 */
export function practisable(steps: readonly Step[]): string[] {
  return steps
    .filter((step) => {
      const base = step.buildsOn === null ? undefined : findStep(steps, step.buildsOn);
      return base !== undefined && !addsNoGuarantee(step, base);
    })
    .map((step) => step.id);
}

function addsNoGuarantee(target: Step, base: Step): boolean {
  return target.guarantees.every((guarantee) => base.guarantees.includes(guarantee));
}

/** The exercise's folder, refused when it has not been created yet. */
export function requireFolder(exercise: Exercise): void {
  if (!existsSync(exercise.folder)) {
    throw new PracticeTargetError(
      `There is no practice folder for step ${exercise.target.id} yet (${shown(exercise.folder)}). ` +
        `Create it with: npm run practice ${exercise.target.id}`,
    );
  }
}

/** A path as the attendee types it: relative to the repository's root. */
export function shown(path: string): string {
  return relative(REPO_ROOT, path) || ".";
}

/**
 * The proof that practice mode's grade can fail and can pass, for one step:
 * the base's code, renamed to the target, fails `check` with the target's new
 * guarantees among those not reached; the reference's own code, copied into
 * the practice folder (every file but README.md and TODO.md), passes it.
 * CI runs it for every step (lib/workshop/cli/practice-proof.ts).
 *
 * @module
 */
import { cpSync, rmSync } from "node:fs";
import { basename } from "node:path";
import type { Guarantee } from "../../step.ts";
import { createPracticeFolder } from "./create.ts";
import type { Exercise } from "./exercise.ts";
import { type Grade, grade, passes } from "./grade.ts";
import { newGuarantees } from "./todo.ts";

export interface ProofResult {
  /** What went wrong; empty when both checks did what they must. */
  readonly problems: readonly string[];
  readonly baseSeconds: number;
  readonly referenceSeconds: number;
}

export function proveGrading(exercise: Exercise): ProofResult {
  const problems: string[] = [];
  try {
    createPracticeFolder(exercise);
    const onBase = grade(exercise);
    const missing = notReached(exercise, onBase);
    const unnamed = newGuarantees(exercise).filter((guarantee) => !missing.includes(guarantee));
    if (passes(onBase)) problems.push("the base's code passes check");
    if (unnamed.length > 0) {
      problems.push(`check on the base's code does not name ${unnamed.join(", ")} as not reached`);
    }
    cpSync(exercise.referenceFolder, exercise.folder, {
      recursive: true,
      filter: (source) => !["README.md", "TODO.md"].includes(basename(source)),
    });
    const onReference = grade(exercise);
    if (!passes(onReference)) {
      const why = [
        ...onReference.guarantees.flatMap(({ guarantee, failures }) =>
          notReached(exercise, onReference).includes(guarantee)
            ? failures.map((failure) => `${guarantee}: "${failure.title}": ${failure.reason}`)
            : [],
        ),
        ...onReference.testFailures.map((failure) => `"${failure.title}": ${failure.reason}`),
        ...onReference.brokenFiles.map((broken) => `${broken.title}: ${broken.reason}`),
      ];
      problems.push(`check fails on the reference's code:\n    ${why.join("\n    ")}\n `);
    }
    return { problems, baseSeconds: onBase.seconds, referenceSeconds: onReference.seconds };
  } finally {
    rmSync(exercise.folder, { recursive: true, force: true });
  }
}

/** The target's declared guarantees that the grade does not show as kept. */
export function notReached(exercise: Exercise, result: Grade): Guarantee[] {
  return result.guarantees
    .filter(
      ({ guarantee, cell }) =>
        exercise.target.guarantees.includes(guarantee) && cell.kind !== "kept",
    )
    .map(({ guarantee }) => guarantee);
}

/**
 * CI's proof that practice mode grades honestly, for every step it offers (or
 * those named): `node --import tsx lib/workshop/cli/practice-proof.ts [05 08 …]`.
 * For each, the base's code must fail `check`, naming the target's new
 * guarantees, and the reference's code must pass it (see practice/proof.ts).
 * It works in `.practice-proof/` (ignored by git), never in an attendee's
 * `practice/`, and removes it at the end.
 *
 * @module
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import { exerciseFor, practisable } from "../practice/exercise.ts";
import { proveGrading } from "../practice/proof.ts";
import { loadSteps } from "../step-directory.ts";
import { runMain } from "./run-main.ts";

const PROOF_ROOT = join(REPO_ROOT, ".practice-proof");

async function main(argv: readonly string[]): Promise<number> {
  const steps = await loadSteps();
  const ids = argv.length > 0 ? argv : practisable(steps);
  let failed = 0;
  try {
    for (const id of ids) {
      const exercise = exerciseFor(steps, id, PROOF_ROOT);
      const started = performance.now();
      const { problems, baseSeconds, referenceSeconds } = proveGrading(exercise);
      const total = (performance.now() - started) / 1000;
      const times = `check took ${baseSeconds.toFixed(0)} s on the base's code, ${referenceSeconds.toFixed(0)} s on the reference's (${total.toFixed(0)} s in all)`;
      if (problems.length === 0) {
        console.log(
          `✓ step ${exercise.target.id}: the base's code fails check, the reference's passes; ${times}`,
        );
      } else {
        failed++;
        console.log(`✗ step ${exercise.target.id}: ${problems.join("; ")}; ${times}`);
      }
    }
  } finally {
    rmSync(PROOF_ROOT, { recursive: true, force: true });
  }
  console.log(`${ids.length - failed} of ${ids.length} steps graded as they must be.`);
  return failed === 0 ? 0 : 1;
}

runMain(() => main(process.argv.slice(2)));

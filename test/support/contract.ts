/**
 * The shape every contract file shares: one guarantee, every step.
 *
 * `contractFor("noDuplicatesWithHealthyWorkers", (step, declared) => …)`
 * nests the tests as `<guarantee> › step NN-slug › …`, which is also how the
 * guarantees matrix (`npm run matrix`) reads the results back: a passing test
 * under a declared guarantee is a ✓, a passing `demonstrates: …` test under
 * an undeclared one is a ✗ with a link to it.
 *
 * @module
 */
import { describe } from "vitest";
import type { Guarantee, Step } from "../../lib/step.ts";
import { stepsUnderTest } from "../../lib/workshop/step-directory.ts";

/** Every step; in practice mode (`npm run practice NN -- check`), the attendee's alone. */
export const steps = await stepsUnderTest();

/**
 * Declares the contract tests of `guarantee` once per step (or per step that
 * `appliesTo`); `declared` says whether that step promises it.
 */
export function contractFor(
  guarantee: Guarantee,
  body: (step: Step, declared: boolean) => void,
  appliesTo: (step: Step) => boolean = () => true,
): void {
  const chosen = steps.filter(appliesTo);
  describe(guarantee, () => {
    describe.each(chosen.map((step) => [`${step.id}-${step.slug}`, step] as const))(
      "step %s",
      (_, step: Step) => body(step, step.guarantees.includes(guarantee)),
    );
  });
}

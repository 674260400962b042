/**
 * Finding the steps: every folder `steps/NN-slug/` whose `index.ts` exports
 * a {@link Step} named `step`. Adding a lesson is adding a folder.
 *
 * @module
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "../paths.ts";
import { type Step, stepFolder } from "../step.ts";

const STEP_FOLDER = /^(\d{2})-([a-z0-9-]+)$/;

/** Every step, in order. */
export async function loadSteps(): Promise<Step[]> {
  const folders = readdirSync(join(REPO_ROOT, "steps"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && STEP_FOLDER.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  const steps: Step[] = [];
  for (const folder of folders) {
    const module: { step?: Step } = await import(
      pathToFileURL(join(REPO_ROOT, "steps", folder, "index.ts")).href
    );
    if (!module.step || stepFolder(module.step) !== folder) {
      throw new Error(
        `steps/${folder}/index.ts must export \`step\` with id and slug matching its folder name.`,
      );
    }
    steps.push(module.step);
  }
  return steps;
}

/** Finds a step by `01`, `1`, `01-naive-poll` or `naive-poll`. */
export function findStep(steps: readonly Step[], query: string): Step | undefined {
  const id = /^\d{1,2}$/.test(query) ? query.padStart(2, "0") : undefined;
  return steps.find((step) => step.id === id || stepFolder(step) === query || step.slug === query);
}

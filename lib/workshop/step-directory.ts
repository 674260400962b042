/**
 * Finding the steps: every folder `steps/NN-slug/` whose `index.ts` exports
 * a {@link Step} named `step`. Adding a lesson is adding a folder.
 *
 * Practice mode (`npm run practice NN -- check`) grades an attendee's folder
 * with the same contract suite: it sets {@link PRACTICE_FOLDER_VARIABLE} to
 * that folder, which then stands in for the step of the same name — for the
 * suite (which runs that step alone), for the step's tests and for every
 * worker process they start (which inherit the variable). Read here and
 * nowhere else, so no test or command has a special case for practice;
 * unset, as in `npm test`, nothing changes.
 *
 * @module
 */
import { readdirSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "../paths.ts";
import { type Step, stepFolder } from "../step.ts";

const STEP_FOLDER = /^(\d{2})-([a-z0-9-]+)$/;

/** Names a practice folder (`practice/05-claims`) to stand in for the step of its name. */
export const PRACTICE_FOLDER_VARIABLE = "PRACTICE_FOLDER";

/**
 * Every step, in order; when {@link PRACTICE_FOLDER_VARIABLE} is set, the
 * practice folder's step in place of the step of the same name. The others
 * stay: the command line still knows every step's worker settings (it
 * ignores another step's flag, such as the heartbeats the crash tests pass).
 */
export async function loadSteps(): Promise<Step[]> {
  const practice = await practiceStep();
  const steps: Step[] = [];
  for (const folder of stepFolders()) steps.push(await loadFolder(folder, practice));
  return steps;
}

/**
 * The one step `query` names (as {@link findStep} reads it), found by its
 * folder's name and imported alone; undefined if no folder matches. A worker
 * process starts with this: importing every step's code costs about a second
 * of CPU per start, and the crash tests start dozens of workers.
 */
export async function loadStep(query: string): Promise<Step | undefined> {
  const named = stepFolders().map((folder) => {
    const [, id = "", slug = ""] = STEP_FOLDER.exec(folder) ?? [];
    return { id, slug, folder };
  });
  const found = findStep(named, query);
  return found && loadFolder(found.folder, await practiceStep());
}

/** The names of the step folders, in order. */
function stepFolders(): string[] {
  return readdirSync(join(REPO_ROOT, "steps"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && STEP_FOLDER.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

/** The step of `steps/<folder>`, or the practice folder's step if it stands in for that one. */
function loadFolder(folder: string, practice: Step | undefined): Promise<Step> {
  return practice && stepFolder(practice) === folder
    ? Promise.resolve(practice)
    : loadStepFrom(join(REPO_ROOT, "steps", folder));
}

/** The steps the contract suite holds to their guarantees: all, or the practice folder's alone. */
export async function stepsUnderTest(): Promise<Step[]> {
  const practice = await practiceStep();
  return practice ? [practice] : loadSteps();
}

/** The step of the practice folder named by {@link PRACTICE_FOLDER_VARIABLE}, if it is set. */
async function practiceStep(): Promise<Step | undefined> {
  const folder = process.env[PRACTICE_FOLDER_VARIABLE];
  return folder ? loadStepFrom(resolve(REPO_ROOT, folder)) : undefined;
}

/** The step that `folder/index.ts` exports; its id and slug must match the folder's name. */
export async function loadStepFrom(folder: string): Promise<Step> {
  const module: { step?: Step } = await import(pathToFileURL(join(folder, "index.ts")).href);
  if (!module.step || stepFolder(module.step) !== basename(folder)) {
    throw new Error(
      `${relative(REPO_ROOT, join(folder, "index.ts"))} must export \`step\` with id and slug matching its folder name.`,
    );
  }
  return module.step;
}

/** Finds a step by `01`, `1`, `01-naive-poll` or `naive-poll`. */
export function findStep<Found extends Pick<Step, "id" | "slug">>(
  steps: readonly Found[],
  query: string,
): Found | undefined {
  const id = /^\d{1,2}$/.test(query) ? query.padStart(2, "0") : undefined;
  return steps.find((step) => step.id === id || stepFolder(step) === query || step.slug === query);
}

/**
 * Files a step copies unchanged from the step it builds on say so in their
 * first line, and stay identical to their source.
 *
 * Each step is a snapshot, so a file that did not change (the doorbell, the
 * listener…) exists once per step. A fix made in one copy and not in the
 * others is the mistake that shape invites; six more steps will copy 08. So a
 * copy opens with
 *
 * ```text
 * // Unchanged from step 05: steps/05-claims/doorbell.ts
 * ```
 *
 * (`--` in SQL), which tells the reader there is nothing new to read in it,
 * and this check holds it to that: apart from that first line the file is
 * byte for byte its source, apart from the source's own first line if the
 * source is a copy too. It also finds copies that do not say so.
 *
 * Which step a step builds on is read from its `index.ts` (`buildsOn: "05"`)
 * as text, so the check runs on any tree, without loading the steps.
 * `test/unchanged-copies.test.ts` runs it in every `npm test`;
 * `npx tsx lib/workshop/cli/unchanged-copies.ts` lists what to change, and
 * with `--mark` adds the missing first lines.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { REPO_ROOT } from "../../paths.ts";

/** A file that breaks the rule, and what to do about it. */
export interface CopyProblem {
  /** The file, relative to the root. */
  readonly file: string;
  readonly kind: "unmarked copy" | "marked, but differs" | "marked wrongly";
  /** The first line it should open with, for an unmarked copy or a wrong mark. */
  readonly firstLine?: string;
  /** What is wrong and what to do, in a sentence. */
  readonly message: string;
}

/** How a line comment starts, by file extension: the files a copy can be. */
const COMMENT: Record<string, string> = { ".ts": "//", ".sql": "--" };
const MARK = /^(?:\/\/|--) Unchanged from step (\d{2}): (\S+)$/;
const STEP_FOLDER = /^\d{2}-[a-z0-9-]+$/;
const BUILDS_ON = /\bbuildsOn:\s*"(\d{2})"/;

/** The first line that says `file` (in `steps/`) is a copy of `source`. */
export function copyMark(file: string, sourceStepId: string, source: string): string {
  return `${COMMENT[extname(file)] ?? "//"} Unchanged from step ${sourceStepId}: ${source}`;
}

/** Whether `text` starts with a copy mark: its file is the base step's, unchanged. */
export function isMarkedCopy(text: string): boolean {
  return MARK.test(firstLine(text));
}

/** Every copy in `steps/` under `root` that is unmarked, marked wrongly, or no longer a copy. */
export function findCopyProblems(root: string = REPO_ROOT): CopyProblem[] {
  const folders = stepFolders(root);
  const problems: CopyProblem[] = [];
  for (const folder of folders) {
    const baseId = buildsOn(root, folder);
    const base = folders.find((candidate) => candidate.startsWith(`${baseId}-`));
    for (const path of filesUnder(join(root, "steps", folder))) {
      const file = relative(root, path).split(sep).join("/");
      if (!(extname(file) in COMMENT)) continue;
      const text = readFileSync(path, "utf8");
      const mark = MARK.exec(firstLine(text));
      const expectedSource = base && `steps/${base}/${file.slice(`steps/${folder}/`.length)}`;
      const expectedMark =
        baseId && expectedSource ? copyMark(file, baseId, expectedSource) : undefined;
      if (mark) {
        const [line = "", , source = ""] = mark;
        if (line !== expectedMark) {
          problems.push({
            file,
            kind: "marked wrongly",
            ...(expectedMark ? { firstLine: expectedMark } : {}),
            message: expectedMark
              ? `its first line names ${source}; a copy names the same file in the step it builds on: "${expectedMark}".`
              : `its first line names ${source}, but step ${folder.slice(0, 2)} builds on no step: remove that line.`,
          });
          continue;
        }
        if (!existsSync(join(root, source))) {
          problems.push({
            file,
            kind: "marked wrongly",
            message: `its first line names ${source}, which does not exist: remove that line, or restore the source.`,
          });
          continue;
        }
        if (bodyOf(text) !== bodyOf(readFileSync(join(root, source), "utf8"))) {
          problems.push({
            file,
            kind: "marked, but differs",
            message: `it says it is unchanged from ${source}, but differs from it: make the same change in both (a fix that missed a copy?), or, if this step changes the file on purpose, remove its first line.`,
          });
        }
        continue;
      }
      if (!expectedSource || !expectedMark) continue;
      const sourcePath = join(root, expectedSource);
      if (existsSync(sourcePath) && text === bodyOf(readFileSync(sourcePath, "utf8"))) {
        problems.push({
          file,
          kind: "unmarked copy",
          firstLine: expectedMark,
          message: `it is ${expectedSource} unchanged: make its first line "${expectedMark}".`,
        });
      }
    }
  }
  return problems;
}

/** A file's text without its first line when that line is a copy mark. */
function bodyOf(text: string): string {
  return MARK.test(firstLine(text)) ? text.slice(text.indexOf("\n") + 1) : text;
}

function firstLine(text: string): string {
  const end = text.indexOf("\n");
  return end < 0 ? text : text.slice(0, end);
}

function stepFolders(root: string): string[] {
  const steps = join(root, "steps");
  if (!existsSync(steps)) return [];
  return readdirSync(steps, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && STEP_FOLDER.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

/** The id of the step `folder` builds on, read from its `index.ts`, or undefined. */
function buildsOn(root: string, folder: string): string | undefined {
  const index = join(root, "steps", folder, "index.ts");
  return existsSync(index) ? BUILDS_ON.exec(readFileSync(index, "utf8"))?.[1] : undefined;
}

function* filesUnder(directory: string): Generator<string> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

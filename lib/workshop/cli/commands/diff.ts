/**
 * `npm run step NN -- diff`: the lesson as a diff. What a step changed in the
 * code of the step it builds on — its schema and its queue code. The lesson
 * text, the demonstration (`demo/`: story and benchmark) and the tests are
 * about the step rather than part of it: `-- diff --all` shows them too.
 * It compares the steps as committed (see committed-steps.ts), and says so
 * when the working tree has edits of them.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO_ROOT } from "../../../paths.ts";
import { type Step, stepFolder } from "../../../step.ts";
import { committedSteps } from "../committed-steps.ts";

/**
 * What is about the step rather than part of its queue: the lesson, its
 * demonstration, its tests (and a practice folder's TODO.md, see
 * lib/workshop/practice/).
 */
const NOT_THE_QUEUE = /^(README\.md|TODO\.md|demo\/.*|.*\.test\.ts)$/;

/** The first line of a file copied unchanged: "// Unchanged from step 05: steps/05-claims/x.ts". */
const COPY_MARK = "^(//|--) Unchanged from step [0-9]{2}: ";

/** Which files to compare: the queue's (the lesson's code), or every file of the step folder. */
export type DiffScope = "queue" | "all";

export function runDiffCommand(step: Step, base: Step | undefined, scope: DiffScope): number {
  if (!base) {
    console.log(
      `Step ${step.id} builds on nothing: there is no earlier step's code to diff against. Read its code in steps/${stepFolder(step)}/.`,
    );
    return 0;
  }
  const folders = [join("steps", stepFolder(base)), join("steps", stepFolder(step))];
  const compared = committedSteps(REPO_ROOT, folders);
  try {
    if (compared.note) console.log(`${compared.note}\n`);
    return printDiff(step, base, scope, compared.root);
  } finally {
    compared.dispose();
  }
}

function printDiff(step: Step, base: Step, scope: DiffScope, root: string): number {
  const what = scope === "queue" ? "the queue code" : "every file";
  return printFolderDiff({
    root,
    from: join(root, "steps", stepFolder(base)),
    to: join(root, "steps", stepFolder(step)),
    scope,
    heading: `What step ${step.id} changed in ${what} of step ${base.id}${scope === "queue" ? " (--all for the lesson, demo/ and tests too)" : ""}:`,
  });
}

/** Two folders to compare, and the line said above their diff. */
export interface FolderDiff {
  /** Where git runs; the file names printed are relative to it. */
  readonly root: string;
  readonly from: string;
  readonly to: string;
  readonly scope: DiffScope;
  readonly heading: string;
}

/**
 * Prints which files changed from `from` to `to` (the most changed first),
 * then their diff; practice mode uses it for an attendee's folder too.
 */
export function printFolderDiff({ root, from, to, scope, heading }: FolderDiff): number {
  const counted = compareFolders(root, from, to, scope);
  if (counted === undefined) {
    console.error(`Could not run git diff. Install git, or compare ${from} and ${to}.`);
    return 1;
  }
  // The files the lesson is about first: the most changed at the top, so a
  // reader paging through meets recovery.ts before a one-line change.
  const changed = counted
    .filter((pair) => pair.added + pair.removed > 0)
    .sort((a, b) => b.added + b.removed - (a.added + a.removed) || a.file.localeCompare(b.file));
  const unchanged = counted.filter((pair) => pair.added + pair.removed === 0);
  console.log(`${heading}\n`);
  for (const pair of changed) console.log(`  ${pair.file.padEnd(28)} ${describeChange(pair)}`);
  if (unchanged.length > 0) {
    console.log(`  unchanged: ${unchanged.map((pair) => pair.file).join(", ")}`);
  }
  console.log();
  for (const { left, right } of changed) {
    // git diff --no-index works outside a repository too, and colours when
    // stdout is a terminal. -I leaves out a change of nothing but the first
    // line that marks a file copied unchanged from the step before
    // (lib/workshop/checks/unchanged-copies.ts): such a file is not news.
    spawnSync("git", ["diff", "--no-index", "--color=auto", "-I", COPY_MARK, "--", left, right], {
      cwd: root,
      stdio: "inherit",
    });
  }
  return 0;
}

/** One file of two compared folders, and how much it changed. */
export interface FileChange {
  /** Its path inside either folder. */
  readonly file: string;
  /** Its path from the root on each side, `/dev/null` where a side lacks it. */
  readonly left: string;
  readonly right: string;
  readonly added: number;
  readonly removed: number;
}

/** Every file of either folder with its lines added and removed; `undefined` without git. */
export function compareFolders(
  root: string,
  from: string,
  to: string,
  scope: DiffScope,
): FileChange[] | undefined {
  const fromFiles = new Set(filesToCompare(from, scope));
  const toFiles = new Set(filesToCompare(to, scope));
  const pairs = [...new Set([...fromFiles, ...toFiles])].map((file) => ({
    file,
    left: fromFiles.has(file) ? relative(root, join(from, file)) : "/dev/null",
    right: toFiles.has(file) ? relative(root, join(to, file)) : "/dev/null",
  }));
  const counted = pairs.map((pair) => ({ ...pair, ...countChanges(root, pair.left, pair.right) }));
  if (counted.some((pair) => pair.error !== undefined)) return undefined;
  return counted.map(({ error: _error, ...pair }) => pair);
}

/** `new, 80 lines`, `removed, 12 lines` or `+40 −30`. */
export function describeChange(pair: FileChange): string {
  if (pair.left === "/dev/null") return `new, ${pair.added} lines`;
  if (pair.right === "/dev/null") return `removed, ${pair.removed} lines`;
  return `+${pair.added} −${pair.removed}`;
}

/** Lines added and removed between two files, as `git diff --numstat` counts them. */
function countChanges(
  root: string,
  left: string,
  right: string,
): { added: number; removed: number; error?: Error } {
  const result = spawnSync(
    "git",
    ["diff", "--no-index", "--numstat", "-I", COPY_MARK, "--", left, right],
    { cwd: root, encoding: "utf8" },
  );
  if (result.error) return { added: 0, removed: 0, error: result.error };
  const [added = "0", removed = "0"] = result.stdout.trim().split(/\s+/);
  return { added: Number(added) || 0, removed: Number(removed) || 0 };
}

function filesToCompare(folder: string, scope: DiffScope): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)).split("\\").join("/"))
    .filter((file) => scope === "all" || !NOT_THE_QUEUE.test(file));
}

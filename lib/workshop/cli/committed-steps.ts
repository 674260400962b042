/**
 * Which copy of two step folders `-- diff` compares: the committed one, which
 * is what the lessons describe.
 *
 * An attendee edits a step for an exercise, then runs the next step's diff.
 * Compared as the folders stand, that diff would show the next step's change
 * against their edit, not against the step the lesson was written from. So in
 * a git checkout the folders are read from `HEAD` (into a temporary folder,
 * with `git archive`), and a note says which of them the working tree changes
 * and how to see or undo that. Outside a git checkout (a downloaded archive),
 * or for a folder not committed yet (a step being written), the folders are
 * compared as they are, and the note says that instead.
 *
 * The alternative, diffing blobs with `git diff HEAD:a HEAD:b`, cannot show a
 * file that only one side has, which is most of what a lesson adds.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where to find the two folders to compare, and what the reader should know about it. */
export interface ComparedSteps {
  /** A root under which `folders` are the copies to compare. */
  readonly root: string;
  /** Said before the diff, when there is something to say. */
  readonly note?: string;
  /** Removes the temporary copy, if one was made. */
  dispose(): void;
}

/**
 * The committed copies of `folders` (paths relative to `repoRoot`, such as
 * `steps/07-retries-priorities`), or the working tree's where there are none.
 */
export function committedSteps(repoRoot: string, folders: readonly string[]): ComparedSteps {
  const asTheyAre = (note: string): ComparedSteps => ({ root: repoRoot, note, dispose() {} });
  if (!git(repoRoot, ["rev-parse", "--verify", "--quiet", "HEAD"]).ok) {
    return asTheyAre("Not a git checkout: comparing the step folders as they are.");
  }
  const uncommitted = folders.filter(
    (folder) =>
      git(repoRoot, ["ls-tree", "-d", "--name-only", "HEAD", folder]).stdout.trim() === "",
  );
  if (uncommitted.length > 0) {
    return asTheyAre(
      `${uncommitted.join(" and ")} ${uncommitted.length === 1 ? "is" : "are"} not committed yet: comparing the step folders as they are.`,
    );
  }
  const copy = mkdtempSync(join(tmpdir(), "committed-steps-"));
  const archive = spawnSync("git", ["archive", "--format=tar", "HEAD", ...folders], {
    cwd: repoRoot,
    maxBuffer: 256 * 1024 * 1024,
  });
  const unpacked =
    archive.status === 0 &&
    spawnSync("tar", ["-x", "-C", copy], { input: archive.stdout }).status === 0;
  const dispose = () => rmSync(copy, { recursive: true, force: true });
  if (!unpacked) {
    dispose();
    return asTheyAre(
      "Could not read the committed steps from git: comparing the folders as they are.",
    );
  }
  const edited = folders.filter(
    (folder) => git(repoRoot, ["status", "--porcelain", "--", folder]).stdout.trim() !== "",
  );
  return { root: copy, note: edited.length > 0 ? editedNote(edited) : undefined, dispose };
}

function editedNote(edited: readonly string[]): string {
  const list = edited.join(" ");
  return [
    `Your working tree changes ${edited.join(" and ")}. This diff compares the committed steps,`,
    "the code the lessons describe. To see your own changes:",
    `  git diff -- ${list}`,
    "and to put the steps back as they were (your changes are lost):",
    `  git checkout -- ${list} && git clean -fd -- ${list}`,
  ].join("\n");
}

function git(cwd: string, args: readonly string[]): { ok: boolean; stdout: string } {
  const result = spawnSync("git", args, { cwd, encoding: "utf8" });
  return { ok: result.status === 0, stdout: result.stdout ?? "" };
}

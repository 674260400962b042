/**
 * The hints of an exercise, from the least to the most given away. They are
 * read off the reference step itself — which files it adds and changes, the
 * tables its schema adds, the code its lesson shows — so they stay true when
 * a step changes, and every step has them without a list to keep up to date.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import { compareFolders, describeChange } from "../cli/commands/diff.ts";
import { type Exercise, shown } from "./exercise.ts";
import { lessonOf } from "./lesson-sections.ts";

/** The hints for `exercise`, in the order `-- hint` reveals them. */
export function hintsFor(exercise: Exercise): string[] {
  return [
    filesHint(exercise),
    schemaHint(exercise),
    excerptsHint(exercise),
    lastHint(exercise),
  ].filter((hint) => hint !== undefined);
}

/** Which files the reference adds and changes: where the work is. */
function filesHint({ target, base, baseFolder, referenceFolder }: Exercise): string {
  const changes = compareFolders(REPO_ROOT, baseFolder, referenceFolder, "queue") ?? [];
  const changed = changes
    .filter((change) => change.added + change.removed > 0)
    .sort((a, b) => b.added + b.removed - (a.added + a.removed));
  const unchanged = changes.filter((change) => change.added + change.removed === 0);
  return [
    `Step ${target.id}'s code, against step ${base.id}'s, changes these files (the most first):`,
    ...changed.map((change) => `- ${change.file}: ${describeChange(change)}`),
    `and leaves ${unchanged.length === 0 ? "none" : unchanged.map((change) => change.file).join(", ")} as they are.`,
    "A file is one concept: a new file's name says what the step adds.",
  ].join("\n");
}

/** The tables (Postgres) the reference's schema creates and the base's does not. */
function schemaHint({ target, base, baseFolder, referenceFolder }: Exercise): string | undefined {
  const before = schemaObjects(baseFolder);
  const after = schemaObjects(referenceFolder);
  if (before === undefined || after === undefined) return undefined;
  const added = after.filter((name) => !before.includes(name));
  const dropped = before.filter((name) => !after.includes(name));
  if (added.length === 0 && dropped.length === 0) {
    return `Step ${target.id}'s schema.sql has the same tables and indexes as step ${base.id}'s: the change is in the code.`;
  }
  return [
    `Step ${target.id}'s schema.sql, against step ${base.id}'s:`,
    ...(added.length > 0 ? [`- adds ${added.join(", ")}`] : []),
    ...(dropped.length > 0 ? [`- no longer has ${dropped.join(", ")}`] : []),
    "A job's state is which table its row is in: which move does each new table stand for?",
  ].join("\n");
}

/** `table jobs`, `index jobs_pending_idx`, … as a schema.sql creates them. */
function schemaObjects(folder: string): string[] | undefined {
  const file = join(folder, "schema.sql");
  if (!existsSync(file)) return undefined;
  const created =
    /\bCREATE\s+(?:UNIQUE\s+)?(TABLE|INDEX|FUNCTION|TRIGGER)\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_]+)/gi;
  return [...readFileSync(file, "utf8").matchAll(created)].map(
    (match) => `${(match[1] ?? "").toLowerCase()} ${match[2]}`,
  );
}

/** The code the lesson shows (its excerpt markers): the heart of the change. */
function excerptsHint(exercise: Exercise): string | undefined {
  const lesson = readFileSync(join(exercise.referenceFolder, "README.md"), "utf8");
  const regions = [...lesson.matchAll(/<!-- code: \.\/([^#\s]+)#([\w-]+)/g)].map(
    (match) => `${match[1]} (region ${match[2]})`,
  );
  if (regions.length === 0) return undefined;
  return [
    `The lesson (${lessonOf(exercise)}) shows the key code, in this order:`,
    ...[...new Set(regions)].map((region) => `- ${region}`),
    "Read each block, then write yours without looking back.",
  ].join("\n");
}

/** When stuck: find which file a guarantee rests on by borrowing it. */
function lastHint({ target, referenceFolder, folder }: Exercise): string {
  return [
    "Stuck on one guarantee? Borrow one file of the reference at a time, e.g.",
    `  cp ${shown(referenceFolder)}/FILE.ts ${shown(folder)}/`,
    `and run \`npm run practice ${target.id} -- check\`: the row says which guarantees that file carries.`,
    `\`npm run practice ${target.id} -- compare\` shows what still differs from the reference.`,
  ].join("\n");
}

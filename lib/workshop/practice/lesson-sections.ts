/**
 * Which part of a lesson to read for a guarantee: where the step that adds
 * it explains how. `check` names it next to a guarantee not reached yet, and
 * `TODO.md` lists them.
 *
 * The sections are named by their headings, looked up in the target step's
 * lesson: a heading renamed or a step whose lesson is laid out otherwise
 * falls back to "What it adds", which every lesson has, rather than to a
 * link that leads nowhere.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Guarantee } from "../../step.ts";
import { type Exercise, shown } from "./exercise.ts";

/** Where a lesson explains a guarantee: headings to look for, the best first. */
const SECTIONS: Record<Guarantee, readonly string[]> = {
  everyJobRuns: [],
  noDuplicatesWithHealthyWorkers: ["Why SKIP LOCKED lets several workers share the queue"],
  lowLatencyPickup: ["What NOTIFY guarantees, and what it does not"],
  noTransactionWhileRunning: ["What the claimed state buys"],
  survivesWorkerCrash: ["Pruning dead processes"],
  deadWorkersNoticed: ["The interval and the threshold"],
  retries: ["Attempts, backoff and the dead queue"],
  priorities: ["Priorities and named queues"],
  scheduledJobs: ["Scheduled jobs and the dispatcher"],
  recovery: ["Pruning dead processes", "Orphaned claims and recovery at start"],
  concurrencyLimits: ["Admitting: lock the key, then count, in the same transaction"],
  rateLimits: ["The check is in the claim"],
  recurringJobs: ["The key, in the job's transaction"],
  batches: ["The finish that completes the batch"],
};

/** Every lesson has it: what the step adds, and how. */
export const WHAT_IT_ADDS = "What it adds";
/** Every lesson has it: what the step does not do, and the tests that show it. */
export const WHAT_IS_STILL_WRONG = "What is still wrong — and the tests that prove it";

/** A section of a lesson, as the attendee finds it: the file and the heading. */
export interface LessonSection {
  readonly lesson: string;
  readonly heading: string;
}

/** The section of the target's lesson that explains `guarantee`. */
export function sectionFor(exercise: Exercise, guarantee: Guarantee): LessonSection {
  const headings = headingsOf(exercise.referenceFolder);
  const heading = SECTIONS[guarantee].find((candidate) => headings.includes(candidate));
  return { lesson: lessonOf(exercise), heading: heading ?? WHAT_IT_ADDS };
}

/** The target's lesson, as a path from the repository's root. */
export function lessonOf(exercise: Exercise): string {
  return shown(join(exercise.referenceFolder, "README.md"));
}

/** The `##` and `###` headings of the lesson (`README.md`) in `folder`. */
export function headingsOf(folder: string): string[] {
  return readFileSync(join(folder, "README.md"), "utf8")
    .split("\n")
    .flatMap((line) => /^#{2,3} (.+)$/.exec(line)?.[1] ?? []);
}

/** `steps/05-claims/README.md, "What the claimed state buys"` */
export function describeSection(section: LessonSection): string {
  return `${section.lesson}, "${section.heading}"`;
}

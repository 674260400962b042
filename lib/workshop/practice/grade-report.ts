/**
 * What `check` prints: the target's row of the guarantees matrix for the
 * attendee's code — ✓ reached, ✗ not yet with the failing test's reason and
 * the section of the lesson to read — then the target's own tests, a verdict
 * and how long it took.
 *
 * @module
 */
import { GUARANTEE_HEADINGS } from "../docs/guarantees-matrix.ts";
import { type Exercise, shown } from "./exercise.ts";
import { type Grade, passes } from "./grade.ts";
import { describeSection, lessonOf, sectionFor, WHAT_IS_STILL_WRONG } from "./lesson-sections.ts";

/** Width of the guarantee's name, so the rows line up. */
const NAME_WIDTH = 30;

export function renderGrade(exercise: Exercise, result: Grade): string[] {
  const { target } = exercise;
  const lines = [
    `Step ${target.id} (${target.slug}) in ${shown(exercise.folder)}, against step ${target.id}'s guarantees:`,
    "",
  ];
  for (const { guarantee, cell, failures } of result.guarantees) {
    const name = GUARANTEE_HEADINGS[guarantee].padEnd(NAME_WIDTH);
    const declared = target.guarantees.includes(guarantee);
    if (declared && cell.kind === "kept") {
      lines.push(`  ✓ ${name} reached (${cell.tests} test${cell.tests === 1 ? "" : "s"} passed)`);
    } else if (declared) {
      lines.push(`  ✗ ${name} not yet`);
      const [first, ...more] = failures;
      lines.push(
        first
          ? `      "${first.title}": ${first.reason}${more.length > 0 ? ` (and ${more.length} more failing)` : ""}`
          : "      no test of it ran",
      );
      lines.push(`      read: ${describeSection(sectionFor(exercise, guarantee))}`);
    } else if (cell.kind === "lacks, not demonstrated" && failures.length > 0) {
      // Not promised, and the demonstration of its absence failed: the code
      // still keeps what the target gives up. Not a failure of the exercise.
      lines.push(`  · ${name} not promised by step ${target.id}, but your code still keeps it`);
      lines.push(
        `      (the suite's "${failures[0]?.title}" did not see it fail). Why step ${target.id} gives it up: ` +
          `${lessonOf(exercise)}, "${WHAT_IS_STILL_WRONG}"`,
      );
    }
  }
  const lacking = result.guarantees
    .filter(
      ({ guarantee, cell }) => !target.guarantees.includes(guarantee) && cell.kind === "lacks",
    )
    .map(({ guarantee }) => GUARANTEE_HEADINGS[guarantee]);
  if (lacking.length > 0) {
    lines.push(
      `  ✗ not promised by step ${target.id}, and shown failing as in the matrix: ${lacking.join("; ")}`,
    );
  }
  if (result.tests.length > 0) {
    lines.push("");
    lines.push(
      result.testFailures.length === 0
        ? `  ✓ step ${target.id}'s own tests (${result.tests.join(", ")}): ${result.testsPassed} passed`
        : `  ✗ step ${target.id}'s own tests (${result.tests.join(", ")}): ${result.testFailures.length} failing, ${result.testsPassed} passed`,
    );
    for (const failure of result.testFailures) {
      lines.push(`      "${failure.title}": ${failure.reason}`);
    }
  }
  for (const broken of result.brokenFiles) {
    lines.push(`  ✗ ${broken.title} could not run: ${broken.reason}`);
  }
  const missing = result.guarantees
    .filter(({ guarantee, cell }) => target.guarantees.includes(guarantee) && cell.kind !== "kept")
    .map(({ guarantee }) => GUARANTEE_HEADINGS[guarantee]);
  const reached = target.guarantees.length - missing.length;
  lines.push("");
  lines.push(
    passes(result)
      ? `Done: your code keeps all ${target.guarantees.length} guarantees of step ${target.id}. Compare it with the reference: npm run practice ${target.id} -- compare`
      : `${reached} of ${target.guarantees.length} guarantees of step ${target.id} reached.` +
          (missing.length > 0 ? ` Not yet: ${missing.join(", ")}.` : "") +
          (result.testFailures.length > 0 || result.brokenFiles.length > 0
            ? " Some tests failed (above)."
            : "") +
          ` Stuck? npm run practice ${target.id} -- hint`,
  );
  lines.push(`Checked in ${result.seconds.toFixed(1)} s.`);
  return lines;
}

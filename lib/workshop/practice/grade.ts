/**
 * Grading a practice folder: the contract suite and the target's grading
 * tests run against it, and their results read back as the target's row of
 * the guarantees matrix.
 *
 * The suite finds the attendee's step through one environment variable
 * (see `PRACTICE_FOLDER_VARIABLE` in step-directory.ts), so it runs exactly
 * the tests that `npm test` runs on the reference, and its worker processes
 * load the attendee's code too. Each test opens its own schema / key prefix
 * (`test/support/open.ts`), as in `npm test`.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import { GUARANTEES, type Guarantee, stepFolder } from "../../step.ts";
import { contractTests, type MatrixCell, matrixCell } from "../docs/guarantees-matrix.ts";
import { PRACTICE_FOLDER_VARIABLE } from "../step-directory.ts";
import { copyGradedTests } from "./create.ts";
import type { Exercise } from "./exercise.ts";

/** vitest's JSON report, the parts read here. */
interface Report {
  readonly testResults: readonly {
    readonly name: string;
    readonly status: string;
    readonly message?: string;
    readonly assertionResults: readonly {
      readonly ancestorTitles: readonly string[];
      readonly title: string;
      readonly status: string;
      readonly failureMessages?: readonly string[];
    }[];
  }[];
}

/** A test that did not pass, and why, in one line. */
export interface Failure {
  readonly title: string;
  readonly reason: string;
}

/** One guarantee of the row: its cell, and the tests that failed for it. */
export interface GradedGuarantee {
  readonly guarantee: Guarantee;
  readonly cell: MatrixCell;
  readonly failures: readonly Failure[];
}

export interface Grade {
  readonly guarantees: readonly GradedGuarantee[];
  /** The target's own tests that graded the folder. */
  readonly tests: readonly string[];
  readonly testFailures: readonly Failure[];
  readonly testsPassed: number;
  /** Test files that could not run at all (the step does not load, a syntax error). */
  readonly brokenFiles: readonly Failure[];
  readonly seconds: number;
}

/** Runs the suite and the grading tests against the practice folder. */
export function grade(exercise: Exercise): Grade {
  const started = performance.now();
  const tests = copyGradedTests(exercise);
  const scratch = mkdtempSync(join(tmpdir(), "practice-check-"));
  const reportFile = join(scratch, "report.json");
  try {
    const run = spawnSync(
      process.execPath,
      [
        join(REPO_ROOT, "node_modules/vitest/vitest.mjs"),
        "run",
        "--config",
        "test/practice-vitest.config.ts",
        "test/contract",
        ...tests.map((test) => relative(REPO_ROOT, join(exercise.folder, test))),
        "--reporter=json",
        `--outputFile.json=${reportFile}`,
      ],
      {
        cwd: REPO_ROOT,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, [PRACTICE_FOLDER_VARIABLE]: relative(REPO_ROOT, exercise.folder) },
      },
    );
    let report: Report;
    try {
      report = JSON.parse(readFileSync(reportFile, "utf8"));
    } catch {
      throw new Error(
        `The test run did not finish (exit code ${run.status}):\n${(run.stderr || run.stdout).trim()}`,
      );
    }
    return readGrade(exercise, report, tests, (performance.now() - started) / 1000);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function readGrade(
  exercise: Exercise,
  report: Report,
  tests: readonly string[],
  seconds: number,
): Grade {
  const folder = stepFolder(exercise.target);
  const contract = contractTests(report, REPO_ROOT).filter((test) => test.stepFolder === folder);
  const failuresOf = (guarantee: Guarantee) =>
    report.testResults.flatMap((file) =>
      file.assertionResults
        .filter((test) => test.ancestorTitles[0] === guarantee && test.status !== "passed")
        .map(failure),
    );
  const guarantees = (Object.keys(GUARANTEES) as Guarantee[]).map((guarantee) => ({
    guarantee,
    cell: matrixCell(exercise.target, guarantee, contract),
    failures: failuresOf(guarantee),
  }));
  const ownFiles = report.testResults.filter((file) =>
    file.name.startsWith(join(exercise.folder, "/")),
  );
  const own = ownFiles.flatMap((file) => file.assertionResults);
  return {
    guarantees,
    tests,
    testFailures: own.filter((test) => test.status !== "passed").map(failure),
    testsPassed: own.filter((test) => test.status === "passed").length,
    brokenFiles: report.testResults
      // A contract file with no test for this step (dead workers, for a
      // step without heartbeats) says "No test found": nothing is broken.
      .filter(
        (file) =>
          file.status === "failed" &&
          file.assertionResults.length === 0 &&
          !(file.message ?? "").startsWith("No test found"),
      )
      .map((file) => ({ title: relative(REPO_ROOT, file.name), reason: firstLine(file.message) })),
    seconds,
  };
}

function failure(test: {
  readonly ancestorTitles: readonly string[];
  readonly title: string;
  readonly failureMessages?: readonly string[];
}): Failure {
  return {
    title: test.title,
    reason:
      test.failureMessages && test.failureMessages.length > 0
        ? firstLine(test.failureMessages[0])
        : "did not run",
  };
}

/** The first line of an error message that says something. */
function firstLine(message: string | undefined): string {
  const line = (message ?? "").split("\n").find((text) => text.trim() !== "") ?? "no message";
  return line.trim();
}

/** Whether the folder keeps every guarantee the target declares, and passes its grading tests. */
export function passes(result: Grade): boolean {
  return (
    result.brokenFiles.length === 0 &&
    result.testFailures.length === 0 &&
    result.guarantees.every((graded) => graded.cell.kind !== "declared, not verified")
  );
}

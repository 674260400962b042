/**
 * Every exercise's `Check:` command, as its lesson prints it, run twice: on the step as
 * committed, and on the step with the exercise done. The lesson says which of the two passes;
 * the other must fail. So a check can neither pass whatever the attendee did nor fail whatever
 * they did, and the lesson cannot drift from the test (the commands are read from it, see
 * `lib/workshop/checks/exercise-checks.ts`).
 *
 * "The exercise done" is `test/exercises/NN-E.patch` (exercise E of step NN): a model answer,
 * applied to a scratch copy of the repository, never to the tree itself. Alternatives rejected:
 * - a flag in the step's code that switches the exercise's change on: the reference code would
 *   carry every broken variant, and the lesson's diff and excerpts would show them;
 * - applying the patch to the working tree and reverting it: a failed or interrupted run would
 *   leave a broken step behind, and the other test files running in parallel would see it.
 * A patch also goes stale loudly: when the step's code changes under it, `git apply` fails here,
 * and the model answer is brought up to date with the code it answers.
 *
 * The commands run from the root of each tree with this run's servers (DATABASE_URL /
 * REDIS_URL); the tests they run make their own schemas and keys, and clean up, as any test.
 */
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../lib/paths.ts";
import { type ExerciseCheck, readExerciseChecks } from "../lib/workshop/checks/exercise-checks.ts";
import { loadSteps } from "../lib/workshop/step-directory.ts";
import { testDatabaseUrl, testRedisUrl } from "./services.ts";

const checks = readExerciseChecks();
const redisSteps = new Set(
  (await loadSteps()).filter((step) => step.backend === "redis").map((step) => step.id),
);
/** A check is one filtered test run or one quick benchmark: seconds, a minute at most. */
const CHECK_TIMEOUT_MS = 120_000;
/** Folders and files of the repository a scratch copy leaves out (node_modules is linked). */
const NOT_COPIED = new Set([".git", ".data", "node_modules", "docs/site"]);

const scratch = mkdtempSync(join(tmpdir(), "bjfs-exercise-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the lessons' exercises", () => {
  it("every numbered exercise says what to expect", () => {
    const withoutExpected = checks.filter((check) => !check.hasExpected).map(label);
    expect(withoutExpected).toEqual([]);
  });

  it("every exercise with a check has its done state in test/exercises/", () => {
    const missing = checks.filter((check) => !existsSync(patchOf(check))).map(patchName);
    expect(missing).toEqual([]);
  });

  describe.each(checks.map((check) => [label(check), check] as const))("%s", (_, check) => {
    const env = environmentFor(check);
    it(`${check.onCommitted} on the step as committed`, { timeout: CHECK_TIMEOUT_MS }, async () => {
      const run = await runCheck(check.command, REPO_ROOT, env);
      expect(run.exitCode === 0, run.output).toBe(check.onCommitted === "passes");
    });
    const onDone = check.onCommitted === "passes" ? "fails" : "passes";
    it(`${onDone} once the exercise is done`, { timeout: CHECK_TIMEOUT_MS }, async () => {
      const tree = await copyWithExerciseDone(check);
      const run = await runCheck(check.command, tree, env);
      expect(run.exitCode === 0, run.output).toBe(onDone === "passes");
    });
  });
});

function label(check: ExerciseCheck): string {
  return `${check.stepFolder} exercise ${check.exercise} (${check.title})`;
}

function patchName(check: ExerciseCheck): string {
  return `test/exercises/${check.stepFolder.slice(0, 2)}-${check.exercise}.patch`;
}

function patchOf(check: ExerciseCheck): string {
  return join(REPO_ROOT, patchName(check));
}

function environmentFor(check: ExerciseCheck): NodeJS.ProcessEnv {
  const redis = redisSteps.has(check.stepFolder.slice(0, 2)) ? testRedisUrl() : undefined;
  return {
    ...process.env,
    DATABASE_URL: testDatabaseUrl(),
    ...(redis ? { REDIS_URL: redis } : {}),
    // The check's own test run reports plainly, without colours, into this test's message.
    NO_COLOR: "1",
  };
}

/** A copy of the repository with the exercise's patch applied; its path. */
async function copyWithExerciseDone(check: ExerciseCheck): Promise<string> {
  const tree = join(scratch, `${check.stepFolder.slice(0, 2)}-${check.exercise}`);
  rmSync(tree, { recursive: true, force: true });
  cpSync(REPO_ROOT, tree, {
    recursive: true,
    filter: (source) => !NOT_COPIED.has(relative(REPO_ROOT, source)),
  });
  symlinkSync(realpathSync(join(REPO_ROOT, "node_modules")), join(tree, "node_modules"));
  await promisify(execFile)("git", ["apply", "--whitespace=nowarn", patchOf(check)], {
    cwd: tree,
  });
  return tree;
}

interface CheckRun {
  exitCode: number | null;
  output: string;
}

/** Runs `command` in a shell in `cwd`; its exit code and the last of its output. */
function runCheck(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<CheckRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-6_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (exitCode) => resolve({ exitCode, output: `$ ${command}\n${output}` }));
  });
}

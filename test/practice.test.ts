/**
 * Practice mode (`npm run practice NN`): what it says on misuse, and that a
 * new practice folder is the base's code declaring the target's identity and
 * guarantees, for every step it offers. That its grade fails on the base's
 * code and passes on the reference's is proved by CI's practice gate
 * (`lib/workshop/cli/practice-proof.ts`): two runs of the contract suite per
 * step are too long for `npm test`.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../lib/paths.ts";
import { GUARANTEE_HEADINGS } from "../lib/workshop/docs/guarantees-matrix.ts";
import { createPracticeFolder } from "../lib/workshop/practice/create.ts";
import { exerciseFor, practisable } from "../lib/workshop/practice/exercise.ts";
import { loadStepFrom, loadSteps } from "../lib/workshop/step-directory.ts";
import { runPracticeCommand } from "./support/cli.ts";

const steps = await loadSteps();
/** One level below the root, as `practice/` is, so the copies' `../../lib` imports resolve. */
const root = mkdtempSync(join(REPO_ROOT, ".practice-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("npm run practice, misused", () => {
  it("asks which step when none is given, with the usage", async () => {
    const { code, stderr } = await runPracticeCommand();
    expect(code).toBe(2);
    expect(stderr).toContain("Which step do you want to build?");
    expect(stderr).toContain("Usage: npm run practice NN");
  });

  it("says step 01 builds on nothing, and which steps can be practised", async () => {
    const { code, stderr } = await runPracticeCommand("01");
    expect(code).toBe(2);
    expect(stderr).toContain("Step 01 builds on no earlier step");
    expect(stderr).toContain(`Steps you can practise: ${practisable(steps).join(", ")}`);
  });

  it("names an unknown step and an unknown command", async () => {
    expect((await runPracticeCommand("99")).stderr).toContain('Unknown step "99"');
    expect((await runPracticeCommand("05", "frob")).stderr).toContain('Unknown command "frob"');
  });

  it("says how to create a practice folder that does not exist yet", async () => {
    // A step nobody practises in this checkout's practice/ while the tests run: the one
    // whose folder is absent. Skipping the check would hide the message; pick one.
    const absent = practisable(steps).find((id) => !existsSync(exerciseFor(steps, id).folder));
    expect(absent, "every step has a practice folder here").toBeDefined();
    const { code, stderr } = await runPracticeCommand(absent ?? "", "check");
    expect(code).toBe(2);
    expect(stderr).toContain(`There is no practice folder for step ${absent} yet`);
    expect(stderr).toContain(`Create it with: npm run practice ${absent}`);
  });

  it("prints its usage for --help", async () => {
    const { code, stdout } = await runPracticeCommand("--help");
    expect(code).toBe(0);
    expect(stdout).toContain("npm run practice 05 -- check");
  });
});

describe.each(practisable(steps))("practice folder of step %s", (id) => {
  it("holds the base's queue code declaring the target's identity and guarantees, and a TODO", async () => {
    const exercise = exerciseFor(steps, id, root);
    createPracticeFolder(exercise);
    const practised = await loadStepFrom(exercise.folder);
    const { target, base } = exercise;
    expect({ ...practised, open: undefined, workerSettings: undefined }).toEqual({
      ...target,
      open: undefined,
      workerSettings: undefined,
    });
    // The base's code: every other file of its queue, as it is.
    const queueFiles = readdirSync(exercise.baseFolder, { withFileTypes: true })
      .filter(
        (entry) => entry.isFile() && !/^(index\.ts|README\.md|.*\.test\.ts)$/.test(entry.name),
      )
      .map((entry) => entry.name);
    for (const file of queueFiles) {
      expect(readFileSync(join(exercise.folder, file), "utf8"), file).toBe(
        readFileSync(join(exercise.baseFolder, file), "utf8"),
      );
    }
    const todo = readFileSync(join(exercise.folder, "TODO.md"), "utf8");
    for (const guarantee of target.guarantees.filter((g) => !base.guarantees.includes(g))) {
      expect(todo).toContain(`- [ ] ${GUARANTEE_HEADINGS[guarantee]}: `);
    }
    expect(existsSync(join(exercise.folder, "README.md"))).toBe(false);
  });
});

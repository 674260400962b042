/** The guarantees matrix, from a made-up vitest report on two real steps. */
import { describe, expect, it } from "vitest";
import {
  contractTests,
  GUARANTEE_HEADINGS,
  renderMatrix,
  type VitestReport,
} from "../lib/workshop/docs/guarantees-matrix.ts";
import { findStep, loadSteps } from "../lib/workshop/step-directory.ts";

const root = "/repo";
const test = (ancestorTitles: string[], title: string, status = "passed") => ({
  ancestorTitles,
  title,
  status,
});
const report: VitestReport = {
  testResults: [
    {
      name: `${root}/test/contract/duplicates.test.ts`,
      assertionResults: [
        test(
          ["noDuplicatesWithHealthyWorkers", "step 01-naive-poll"],
          "demonstrates: two workers run one job",
        ),
        test(["noDuplicatesWithHealthyWorkers", "step 02-ready-executions"], "never runs twice"),
      ],
    },
    {
      name: `${root}/test/contract/basics.test.ts`,
      assertionResults: [
        test(["everyJobRuns", "step 01-naive-poll"], "runs every job"),
        test(["everyJobRuns", "step 02-ready-executions"], "runs every job", "failed"),
      ],
    },
  ],
};

describe("renderMatrix", async () => {
  const all = await loadSteps();
  const steps = ["01", "02"].flatMap((id) => findStep(all, id) ?? []);
  const table = renderMatrix(steps, contractTests(report, root), {
    lesson: (step) => `lessons/${step.id}`,
    test: (file) => `pages/${file}`,
  });

  it("has a row per guarantee and a column per step, headed by a link to its lesson", () => {
    expect(table).toHaveLength(2 + Object.keys(GUARANTEE_HEADINGS).length);
    expect(table[0]).toBe(
      '| guarantee | [01](lessons/01 "01 naive-poll") | [02](lessons/02 "02 ready-executions") |',
    );
  });

  it("links a demonstrated failure to its test, and shows a failing declared guarantee as ⚠", () => {
    expect(table).toContain(
      '| never twice (healthy workers) | [✗](pages/test/contract/duplicates.test.ts "demonstrates: two workers run one job") | ✓ |',
    );
    expect(table).toContain("| every job runs | ✓ | ⚠ |");
  });

  it("says · where a guarantee is neither declared nor demonstrated", () => {
    expect(table).toContain("| automatic recovery | · | · |");
  });
});

/**
 * The guarantees matrix: every step against every guarantee, as the contract
 * suite found it — not as the steps claim it.
 *
 * A cell is ✓ only when the step declares the guarantee *and* the contract
 * tests for it passed in the results given; ✗ when the step does not declare
 * it and a passing `demonstrates: …` test shows the failure (the cell links to
 * that test). Anything else is said plainly: a declared guarantee whose tests
 * failed or did not run is ⚠, never ✓.
 *
 * The results are vitest's JSON report; the contract files nest their tests
 * as `<guarantee> › step NN-slug › …` (see `test/support/contract.ts`).
 *
 * @module
 */
import { relative } from "node:path";
import { GUARANTEES, type Guarantee, type Step, stepFolder } from "../../step.ts";

/** The part of vitest's JSON report this reads. */
export interface VitestReport {
  readonly testResults: readonly {
    readonly name: string;
    readonly assertionResults: readonly {
      readonly ancestorTitles: readonly string[];
      readonly title: string;
      readonly status: string;
    }[];
  }[];
}

/** One contract test, as run. */
export interface ContractTest {
  readonly guarantee: Guarantee;
  readonly stepFolder: string;
  readonly title: string;
  readonly passed: boolean;
  /** The test file, relative to the repository root. */
  readonly file: string;
  readonly demonstration: boolean;
}

export type MatrixCell =
  | { readonly kind: "kept"; readonly tests: number }
  | { readonly kind: "lacks"; readonly demonstratedBy: ContractTest }
  | { readonly kind: "lacks, not demonstrated" }
  | { readonly kind: "declared, not verified"; readonly failing: readonly ContractTest[] };

/** Short names of the guarantees, the matrix's rows, in the order of {@link GUARANTEES}. */
export const GUARANTEE_HEADINGS: Record<Guarantee, string> = {
  everyJobRuns: "every job runs",
  noDuplicatesWithHealthyWorkers: "never twice (healthy workers)",
  lowLatencyPickup: "instant pickup",
  noTransactionWhileRunning: "no transaction while running",
  survivesWorkerCrash: "survives a worker crash",
  deadWorkersNoticed: "dead workers noticed",
  retries: "retries, dead queue",
  priorities: "priorities",
  scheduledJobs: "scheduled jobs",
  recovery: "automatic recovery",
  concurrencyLimits: "concurrency limits per key",
  rateLimits: "rate limits",
  recurringJobs: "recurring jobs, once per tick",
  batches: "batches, one callback",
};

const STEP_TITLE = /^step (\d{2}-[a-z0-9-]+)$/;

/** The contract tests in a vitest report, with their guarantee and step. */
export function contractTests(report: VitestReport, repoRoot: string): ContractTest[] {
  return report.testResults.flatMap((file) =>
    file.assertionResults.flatMap((test) => {
      const [guarantee, stepTitle] = test.ancestorTitles;
      const folder = stepTitle === undefined ? undefined : STEP_TITLE.exec(stepTitle)?.[1];
      if (guarantee === undefined || !(guarantee in GUARANTEES) || folder === undefined) return [];
      return [
        {
          guarantee: guarantee as Guarantee,
          stepFolder: folder,
          title: test.title,
          passed: test.status === "passed",
          file: relative(repoRoot, file.name),
          demonstration: test.title.startsWith("demonstrates:"),
        },
      ];
    }),
  );
}

/** The cell of `step` × `guarantee`. */
export function matrixCell(
  step: Step,
  guarantee: Guarantee,
  tests: readonly ContractTest[],
): MatrixCell {
  const own = tests.filter(
    (test) => test.guarantee === guarantee && test.stepFolder === stepFolder(step),
  );
  if (step.guarantees.includes(guarantee)) {
    const enforcing = own.filter((test) => !test.demonstration);
    const failing = own.filter((test) => !test.passed);
    if (enforcing.length === 0 || failing.length > 0)
      return { kind: "declared, not verified", failing };
    return { kind: "kept", tests: enforcing.length };
  }
  const demonstration = own.find((test) => test.demonstration && test.passed);
  return demonstration
    ? { kind: "lacks", demonstratedBy: demonstration }
    : { kind: "lacks, not demonstrated" };
}

/** Where the matrix's links lead, from the page it is shown on. */
export interface MatrixLinks {
  /** The lesson of a step, for its column heading. */
  lesson(step: Step): string;
  /** What a ✗ links to: the test that demonstrates the failure, given as its file. */
  test(file: string): string;
}

/**
 * The matrix as a Markdown table: a row per guarantee, a column per step.
 * That way round it stays narrow — the steps' columns hold one symbol each,
 * under the step's number — so it fits a README on GitHub and the docs site's
 * content column without scrolling, and grows downwards as guarantees are
 * added, not sideways.
 */
export function renderMatrix(
  steps: readonly Step[],
  tests: readonly ContractTest[],
  links: MatrixLinks,
): string[] {
  const guarantees = Object.keys(GUARANTEES) as Guarantee[];
  const header = `| guarantee | ${steps.map((step) => `[${step.id}](${links.lesson(step)} "${step.id} ${step.slug}")`).join(" | ")} |`;
  const rule = `|---|${steps.map(() => ":-:").join("|")}|`;
  const rows = guarantees.map((guarantee) => {
    const cells = steps.map((step) => renderCell(matrixCell(step, guarantee, tests), links));
    return `| ${GUARANTEE_HEADINGS[guarantee]} | ${cells.join(" | ")} |`;
  });
  return [header, rule, ...rows];
}

function renderCell(cell: MatrixCell, links: MatrixLinks): string {
  switch (cell.kind) {
    case "kept":
      return "✓";
    case "lacks":
      return `[✗](${links.test(cell.demonstratedBy.file)} "${cell.demonstratedBy.title.replaceAll('"', "'")}")`;
    case "lacks, not demonstrated":
      return "·";
    case "declared, not verified":
      return "⚠";
  }
}

/** What the symbols mean, under the table. */
export const MATRIX_LEGEND = [
  "- ✓ declared by the step, and enforced by the contract suite in the run that made this table",
  "- ✗ not declared, and a contract test demonstrates the failure (follow the link)",
  "- · not declared and not demonstrated: not applicable to that step, or shown by the step's own tests",
  "- ⚠ declared, but its contract tests failed or did not run",
].join("\n");

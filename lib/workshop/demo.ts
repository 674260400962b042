/**
 * A step's demonstration: the story (`npm run step NN`) and the benchmark
 * (`npm run step NN -- bench`) in its `demo/` folder. They sit beside the
 * queue rather than inside it: the queue (the step's `index.ts` and what it
 * imports) uses only the ground floor of `lib/`, while a demonstration drives
 * the queue with the workshop's tools — processes to kill, timers, tables.
 * The CLI finds them by file name, as it finds the steps by folder name.
 *
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "../paths.ts";
import { type Output, type Step, type StepInstance, stepFolder } from "../step.ts";
import type { BarChart } from "./docs/svg-chart.ts";

/** How a story or benchmark opens a step: its own namespace, pool size, or another step to compare with. */
export interface OpenRequest {
  /** Which step to open, by id; defaults to the step running the story or benchmark. */
  readonly step?: string;
  readonly namespace?: string;
  readonly poolSize?: number;
}

/** What a step's story and benchmark get to work with. */
export interface RunContext {
  /** Opens a step against the services the CLI resolved. The caller closes it. */
  readonly open: (request?: OpenRequest) => Promise<StepInstance>;
  readonly out: Output;
  /** `--quick`: a run of seconds, for CI. */
  readonly quick: boolean;
  /**
   * Stores a benchmark's results as JSON with the machine, versions and
   * settings they were measured with, and prints where.
   */
  readonly saveResults: (benchmark: string, settings: object, results: unknown) => Promise<void>;
  /**
   * Draws a chart of a benchmark's results as `file` (an `.svg` name), and
   * prints where: under `npm run bench -- --report` into `docs/benchmarks/`,
   * shown on the report page and in the lesson; otherwise into `.data/bench/`.
   */
  readonly saveChart: (file: string, chart: BarChart) => Promise<void>;
}

/** A step's `story` or its `benchmark`. */
export type DemoKind = "story" | "benchmark";

/** `steps/NN-slug/demo/story.ts` exports `runStory`; `demo/bench.ts` exports `runBenchmark`. */
const DEMOS: Record<DemoKind, { file: string; exported: string }> = {
  story: { file: "story.ts", exported: "runStory" },
  benchmark: { file: "bench.ts", exported: "runBenchmark" },
};

/** Runs a step's story or benchmark. */
export async function runDemo(step: Step, kind: DemoKind, context: RunContext): Promise<void> {
  const { file, exported } = DEMOS[kind];
  const path = join(REPO_ROOT, "steps", stepFolder(step), "demo", file);
  const module: Record<string, unknown> = await import(pathToFileURL(path).href);
  const run = module[exported];
  if (typeof run !== "function") {
    throw new Error(`steps/${stepFolder(step)}/demo/${file} must export \`${exported}(context)\`.`);
  }
  await (run as (context: RunContext) => Promise<void>)(context);
}

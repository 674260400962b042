/**
 * The benchmark report: `npm run bench -- --report` writes
 * `docs/benchmarks.md` and its charts (`docs/benchmarks/*.svg`) from one run.
 *
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import type { Step } from "../../step.ts";
import { formatMarkdown } from "../docs/format-markdown.ts";
import { renderBarChart, renderLineChart, STEP_COLOURS } from "../docs/svg-chart.ts";
import { renderTable } from "../format.ts";
import { type BenchEnvironment, environmentLines } from "./environment.ts";
import { PEERS } from "./peers/index.ts";
import { type HistoryResult, runsOf, type ScenarioSizes } from "./scenarios.ts";
import { type PeerResults, renderSuiteTable, type StepResults } from "./standard-suite.ts";

/** A chart a step's own benchmark drew for the report: its file in `docs/benchmarks/`, and its title. */
export interface ReportChart {
  readonly file: string;
  readonly title: string;
}

/** Everything one report run measured. */
export interface ReportData {
  readonly finishedAt: string;
  readonly quick: boolean;
  readonly environment: BenchEnvironment;
  readonly sizes: ScenarioSizes;
  readonly steps: readonly Step[];
  readonly standard: readonly StepResults[];
  /** The production queues measured beside the steps (`--peers`); empty without. */
  readonly peers: readonly PeerResults[];
  /** Dequeue rate at several history sizes, per step. */
  readonly historyLevels: readonly number[];
  readonly historyCurves: ReadonlyMap<string, readonly HistoryResult[]>;
  /** What each step's own benchmark printed. */
  readonly ownBenchmarks: ReadonlyMap<string, readonly string[]>;
  /** The charts each step's own benchmark drew, already in `docs/benchmarks/`. */
  readonly ownCharts: ReadonlyMap<string, readonly ReportChart[]>;
}

const DOCS_DIR = join(REPO_ROOT, "docs");
/** Where the report's charts go; steps' own benchmarks draw theirs here too. */
export const CHARTS_DIR = join(DOCS_DIR, "benchmarks");

export async function writeReport(data: ReportData): Promise<string> {
  await mkdir(CHARTS_DIR, { recursive: true });
  for (const [file, svg] of Object.entries(renderReportCharts(data))) {
    await writeFile(join(CHARTS_DIR, file), svg);
  }
  const page = join(DOCS_DIR, "benchmarks.md");
  await writeFile(page, formatMarkdown(renderPage(data), "docs/benchmarks.md"));
  return page;
}

/** The measurements the report's charts are drawn from. */
export type ChartedResults = Pick<
  ReportData,
  "sizes" | "steps" | "standard" | "peers" | "historyLevels" | "historyCurves"
>;

/**
 * Greys for the peers' bars: reference rows, set apart from the steps'
 * colours, told apart by the name under each bar.
 */
const PEER_COLOURS = ["#595959", "#8c8c8c", "#bfbfbf"];

/** The report's charts of the standard scenarios, as SVG by file name. */
export function renderReportCharts(data: ChartedResults): Record<string, string> {
  const categories = data.standard.map((result) => ({
    label: `${result.step} ${data.steps.find((step) => step.id === result.step)?.slug ?? ""}`,
    colour: colourOf(data.steps, result.step),
  }));
  // Throughput and pickup latency have the peers too, after the steps.
  const withPeers = [
    ...categories,
    ...data.peers.map((result, index) => ({
      label: PEERS.find((peer) => peer.name === result.peer)?.chartLabel ?? result.peer,
      colour: PEER_COLOURS[index % PEER_COLOURS.length] ?? "#888",
    })),
  ];
  const measured = [...data.standard, ...data.peers];
  return {
    "throughput.svg": renderBarChart({
      title: `Throughput: ${data.sizes.throughputJobs.toLocaleString("en-US")} no-op jobs, concurrency ${data.sizes.throughputConcurrency} (higher is better; log scale)`,
      valueLabel: "jobs processed per second",
      categories: withPeers,
      series: [
        {
          label: "jobs/s",
          values: measured.map((result) => result.throughput.processPerSecond),
        },
      ],
      logarithmic: true,
    }),
    // Log scale: the polling steps wait ~50 ms, the others ~1 ms, and on a
    // linear axis the steps that matter most would be flat lines.
    "pickup-latency.svg": renderBarChart({
      title: "Pickup latency of an idle worker (lower is better; log scale)",
      valueLabel: "milliseconds from the enqueue's commit to start",
      categories: withPeers,
      series: (["p50Ms", "p95Ms", "p99Ms"] as const).map((key) => ({
        label: key.replace("Ms", ""),
        values: measured.map((result) => result.latency[key]),
      })),
      logarithmic: true,
    }),
    "idle-load.svg": renderBarChart({
      title: "Load of one idle worker (lower is better)",
      valueLabel: "statements or commands per second",
      categories,
      series: [
        {
          label: "per second",
          values: data.standard.map((result) => result.idle.statementsPerSecond),
        },
      ],
    }),
    "history.svg": renderLineChart({
      title: "Dequeue rate as history grows (flat is better; log scale)",
      logarithmic: true,
      xLabel: "finished jobs already in the tables (each level ten times the one before)",
      valueLabel: "jobs dequeued per second",
      x: data.historyLevels,
      lines: [...data.historyCurves].map(([stepId, results]) => ({
        label: `${stepId} ${data.steps.find((step) => step.id === stepId)?.slug ?? ""}`,
        colour: colourOf(data.steps, stepId),
        values: results.map((result) => result.dequeuePerSecond),
      })),
    }),
  };
}

function renderPage(data: ReportData): string {
  const own = data.steps.flatMap((step) => {
    const lines = data.ownBenchmarks.get(step.id);
    if (!lines) return [];
    const charts = (data.ownCharts.get(step.id) ?? []).flatMap((chart) => [
      `![${chart.title}](benchmarks/${chart.file})`,
      "",
    ]);
    return [
      `### ${step.id} ${step.slug}`,
      "",
      "```text",
      ...trimBlank(withoutProgress(lines)),
      "```",
      "",
      ...charts,
    ];
  });
  return [
    "---",
    "title: Benchmarks",
    "group: Guides",
    "---",
    "",
    "# Benchmarks",
    "",
    `Measured ${data.finishedAt.slice(0, 16).replace("T", " ")} UTC with \`npm run bench -- --report${data.quick ? " --quick" : ""}\`, every step in the same run:`,
    "",
    ...environmentLines(data.environment).map((line) => `- ${line}`),
    "",
    "Every number comes with a check that every job ran, and how many ran twice.",
    "Ratios compare a step with the step it builds on, measured in the same run.",
    `On a 2-core machine one run of a scenario can be a third off, or more: the`,
    `throughput column is ${runsOf(data.sizes)} per queue; the other columns run once,`,
    "so read them as orders of magnitude. Each step's own benchmark repeats its",
    "rounds and reports medians.",
    "",
    "## The standard scenarios",
    "",
    "```text",
    ...renderSuiteTable(data.steps, data.standard, data.peers),
    "```",
    "",
    `- throughput: ${data.sizes.throughputJobs.toLocaleString("en-US")} no-op jobs enqueued in bulk, then one worker with concurrency ${data.sizes.throughputConcurrency} drains them, timed from the worker's start (its start-up included, for every queue) to the last job's end; ${runsOf(data.sizes)};`,
    `- pickup latency: an idle worker, ${data.sizes.latencyJobs} jobs enqueued one at a time ${data.sizes.latencyGapMs} ms apart, from the commit of the enqueue (its call returning) to the start of \`perform\`: the worker's side alone. With Redis the worker's BRPOP reply often leaves the server before the LPUSH reply reaches the enqueuer, so step 04's numbers here are near zero. The next column times the same jobs from the enqueue call instead: what a caller waits from asking for a job to its start, the enqueue's own time included;`,
    `- history: ${data.sizes.historyDequeuedJobs.toLocaleString("en-US")} jobs dequeued by one worker (one slot) with ${data.sizes.historyFinishedJobs.toLocaleString("en-US")} finished jobs in the tables;`,
    `- idle: statements (Redis: commands) one idle worker sends per second, over ${data.sizes.idleSeconds} s;`,
    "- CPU s/10k jobs: the CPU time (user + system) of the process the throughput worker runs in, from the worker's start to its stop, per 10,000 jobs (over the measured throughput runs, not the warm-up): its loop, the driver, the events the benchmark counts. The servers' own CPU is not in it.",
    "",
    ...peersSection(data),
    "![Throughput](benchmarks/throughput.svg)",
    "",
    "![Pickup latency](benchmarks/pickup-latency.svg)",
    "",
    "![Dequeue rate as history grows](benchmarks/history.svg)",
    "",
    "```text",
    ...historyTable(data),
    "```",
    "",
    "![Idle load](benchmarks/idle-load.svg)",
    "",
    "## Each step's own benchmark",
    "",
    "What `npm run step NN -- bench` printed in the same run.",
    "",
    ...own,
  ].join("\n");
}

/**
 * What the reference rows are, and how each peer was set up; nothing when
 * the run had no `--peers`.
 */
function peersSection(data: ReportData): string[] {
  if (data.peers.length === 0) return [];
  const measured = PEERS.filter((peer) => data.peers.some((result) => result.peer === peer.name));
  return [
    "### The reference rows",
    "",
    "The rows marked (reference) are production job queues for Node.js, run by",
    "`npm run bench -- --peers` through the same throughput and pickup-latency",
    "scenarios as the steps, in the same run, on the same PostgreSQL and Redis,",
    "each in a schema or key prefix of its own, with a no-op task, and the same",
    "check that every job ran once (counted per job id). They show where a queue",
    "built here stands against ones people run in production. History and idle",
    "load need a step's own hooks (`fillHistory`, a statement counter), so the",
    "peers have no numbers there. In the charts, `gw` is graphile-worker, `gw-b`",
    "the same with its batching on, and `bmq` BullMQ.",
    "",
    ...measured.map((peer) => `- ${peer.settings}.`),
    "",
    "graphile-worker reports a job done when its task returns, before its",
    "completion is written (batched: before the batch is flushed), while a step's",
    "`finished` follows its commit; the last completions are written as its",
    "worker stops, which the CPU column includes and the jobs/s column does not.",
    "Its batching trades crash safety for speed: jobs locked into its local",
    "queue, or completed but not yet flushed, stay locked for 4 hours if its",
    "process dies, and then run again. BullMQ keeps its jobs in Redis: they",
    "survive a crash of the server as far as its persistence settings say.",
    "",
  ];
}

/**
 * What a benchmark printed, less its progress lines ("  round 2: step 05…"):
 * they tell someone watching that work goes on, and say nothing in a report.
 * A line that ends in "…" is progress (see `Output.line` in `lib/step.ts`).
 */
export function withoutProgress(lines: readonly string[]): string[] {
  return lines.filter((line) => !line.trimEnd().endsWith("…"));
}

/** The history chart's numbers, in text: jobs dequeued per second at each level, per step. */
function historyTable(data: ReportData): string[] {
  const rows = [...data.historyCurves].map(([stepId, results]) => [
    `${stepId} ${data.steps.find((step) => step.id === stepId)?.slug ?? ""}`,
    ...results.map((result) => result.dequeuePerSecond),
  ]);
  return renderTable(
    [
      "dequeue/s with … finished jobs",
      ...data.historyLevels.map((level) => level.toLocaleString("en-US")),
    ],
    rows,
  );
}

function colourOf(steps: readonly Step[], stepId: string): string {
  const index = steps.findIndex((step) => step.id === stepId);
  return STEP_COLOURS[index % STEP_COLOURS.length] ?? "#888";
}

function trimBlank(lines: readonly string[]): string[] {
  const result = [...lines];
  while (result[0]?.trim() === "") result.shift();
  while (result.at(-1)?.trim() === "") result.pop();
  return result;
}

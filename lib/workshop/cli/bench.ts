/**
 * `npm run bench [-- --quick] [--steps 01,02] [--peers]`: the standard
 * scenarios on every step, in one run — and on production queues, with
 * `--peers`.
 *
 * @module
 */
import { relative } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import type { Step } from "../../step.ts";
import { describeEnvironment, environmentLines } from "../bench/environment.ts";
import { PEERS } from "../bench/peers/index.ts";
import type { Peer } from "../bench/peers/peer.ts";
import { CHARTS_DIR, type ReportChart, writeReport } from "../bench/report.ts";
import {
  FULL_SIZES,
  type HistoryResult,
  measureDequeueWithHistory,
  QUICK_SIZES,
  runsOf,
  type ScenarioSizes,
} from "../bench/scenarios.ts";
import {
  type PeerResults,
  renderSuiteTable,
  runPeers,
  runStandardSuite,
} from "../bench/standard-suite.ts";
import { runDemo } from "../demo.ts";
import { writeLessonBenchmark } from "../docs/lesson-benchmark.ts";
import { findStep, loadSteps } from "../step-directory.ts";
import { opener, openPeer, openStep, type ServiceUrls } from "./connect.ts";
import { parseFlags } from "./parse.ts";
import { runMain } from "./run-main.ts";
import { saveChart, saveResults } from "./save-results.ts";
import { UsageError } from "./usage-error.ts";

const USAGE = [
  "Usage: npm run bench [-- --quick] [--steps 01,02,…] [--peers] [--report]",
  "",
  "Runs the standard scenarios (throughput, pickup latency, dequeue with history,",
  "idle load) on every step, in one run, and prints one table. Results are saved",
  "as JSON under .data/bench/ with the machine, versions and settings.",
  "",
  "  --quick        small sizes: finishes in seconds",
  "  --steps LIST   only these steps, e.g. --steps 01,03",
  "  --peers        also run graphile-worker (with its defaults, and with its",
  "                 batching on) and BullMQ through throughput and pickup latency,",
  "                 on the same PostgreSQL and Redis, as reference rows",
  "  --report       also measure dequeue rate at several history sizes, run every",
  "                 step's own benchmark, and write docs/benchmarks.md with charts",
].join("\n");

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseFlags(
    argv,
    {
      quick: { type: "boolean" },
      steps: { type: "string" },
      peers: { type: "boolean" },
      report: { type: "boolean" },
    },
    USAGE,
    0,
  );
  if (parsed.flags.help) {
    console.log(USAGE);
    return 0;
  }
  const all = await loadSteps();
  const chosen =
    typeof parsed.flags.steps === "string"
      ? parsed.flags.steps.split(",").map((query) => {
          const step = findStep(all, query.trim());
          if (!step) throw new UsageError(`Unknown step ${JSON.stringify(query)}.`, USAGE);
          return step;
        })
      : all;
  const quick = parsed.flags.quick === true;
  const sizes = quick ? QUICK_SIZES : FULL_SIZES;
  const urls: ServiceUrls = {};
  console.log(`Standard scenarios${quick ? " (--quick)" : ""} on ${chosen.length} step(s):`);
  const results = await runStandardSuite(
    chosen,
    (step) => openStep(step, urls, { namespace: `bench_${step.id}` }),
    sizes,
    {
      line: (text = "") => console.log(text),
    },
  );
  const chosenPeers = parsed.flags.peers === true ? PEERS : [];
  const peers = chosenPeers.length > 0 ? await runAllPeers(chosenPeers, urls, sizes) : [];
  console.log("");
  for (const line of renderSuiteTable(chosen, results, peers)) console.log(line);
  console.log(
    `\nthroughput: ${sizes.throughputJobs} no-op jobs, one worker, concurrency ${sizes.throughputConcurrency}, ${runsOf(sizes)}; ` +
      `latency: ${sizes.latencyJobs} jobs ${sizes.latencyGapMs} ms apart, timed from the enqueue's commit, and its p50 also from its call; history: ${sizes.historyDequeuedJobs} jobs ` +
      `with ${sizes.historyFinishedJobs} finished; idle: ${sizes.idleSeconds} s. Ratios: against the step it builds on. ` +
      "CPU: seconds of this process's CPU, where the worker runs, from its start to its stop, per 10,000 jobs.",
  );
  for (const peer of chosenPeers) console.log(`- ${peer.settings}.`);
  const peerSettings = chosenPeers.map(({ name, settings }) => ({ name, settings }));
  const settings = { ...sizes, peers: peerSettings };
  await saveResults(urls, "standard", quick, settings, { steps: results, peers });
  if (parsed.flags.report) {
    const curves = await measureHistoryCurves(chosen, urls, quick);
    const { ownBenchmarks, ownCharts } = await runOwnBenchmarks(all, chosen, urls, quick);
    const environment = await describeEnvironment(urls.databaseUrl ?? null, urls.redisUrl ?? null);
    const finishedAt = new Date().toISOString();
    const page = await writeReport({
      finishedAt,
      quick,
      environment,
      sizes,
      steps: chosen,
      standard: results,
      peers,
      ...curves,
      ownBenchmarks,
      ownCharts,
    });
    console.log(`\nReport: ${relative(REPO_ROOT, page)} (charts in docs/benchmarks/)`);
    const where = `Measured ${finishedAt.slice(0, 16).replace("T", " ")} UTC by \`npm run bench -- --report${quick ? " --quick" : ""}\`: ${environmentLines(environment).join("; ")}.`;
    for (const step of chosen) {
      const printed = ownBenchmarks.get(step.id);
      const charts = ownCharts.get(step.id) ?? [];
      if (printed && (await writeLessonBenchmark(step, printed, charts, where))) {
        console.log(`Lesson: steps/${step.id}-${step.slug}/README.md benchmark block updated`);
      }
    }
  }
  return 0;
}

/** The peers through throughput and latency, after the steps, on the servers they used. */
function runAllPeers(
  peers: readonly Peer[],
  urls: ServiceUrls,
  sizes: ScenarioSizes,
): Promise<PeerResults[]> {
  console.log(`\nThe same scenarios on ${peers.length} production queues, as reference rows:`);
  return runPeers(peers, (peer) => openPeer(peer, urls, `bench_${peer.slug}`), sizes, {
    line: (text = "") => console.log(text),
  });
}

/** Dequeue rate of every step at several history sizes: the line chart of the report. */
async function measureHistoryCurves(steps: readonly Step[], urls: ServiceUrls, quick: boolean) {
  const historyLevels = quick ? [0, 1_000, 5_000] : [0, 10_000, 100_000];
  const jobs = quick ? 100 : 500;
  const historyCurves = new Map<string, HistoryResult[]>();
  for (const step of steps) {
    console.log(
      `\nstep ${step.id}: dequeue rate with ${historyLevels.map((level) => level.toLocaleString("en-US")).join(" / ")} finished jobs…`,
    );
    const instance = await openStep(step, urls, { namespace: `bench_${step.id}` });
    try {
      const curve: HistoryResult[] = [];
      for (const level of historyLevels) {
        await instance.reset();
        curve.push(await measureDequeueWithHistory(instance, level, jobs, 300_000));
      }
      historyCurves.set(step.id, curve);
    } finally {
      await instance.close();
    }
  }
  return { historyLevels, historyCurves };
}

/**
 * Runs each step's own benchmark, printing as it goes and keeping what it
 * printed, and the charts it drew (into `docs/benchmarks/`), for the report.
 */
async function runOwnBenchmarks(
  all: readonly Step[],
  steps: readonly Step[],
  urls: ServiceUrls,
  quick: boolean,
) {
  const printed = new Map<string, string[]>();
  const charts = new Map<string, ReportChart[]>();
  for (const step of steps) {
    const lines: string[] = [];
    const drawn: ReportChart[] = [];
    printed.set(step.id, lines);
    charts.set(step.id, drawn);
    await runDemo(step, "benchmark", {
      open: opener(all, step, urls),
      out: {
        line: (text = "") => {
          lines.push(text);
          console.log(text);
        },
      },
      quick,
      saveResults: (benchmark, settings, results) =>
        saveResults(urls, benchmark, quick, settings, results),
      saveChart: async (file, chart) => {
        await saveChart(CHARTS_DIR, file, chart);
        drawn.push({ file, title: chart.title });
      },
    });
  }
  return { ownBenchmarks: printed, ownCharts: charts };
}

runMain(() => main(process.argv.slice(2)));

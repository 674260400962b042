/**
 * `npm run step`: the workshop's command line. It knows nothing about any
 * particular step: it finds them with {@link loadStep} and {@link loadSteps} and talks to them
 * only through the {@link Step} contract.
 *
 * The commands that bring much with them — the story and the benchmark
 * (their scenarios, charts and results files), the dashboard (its server
 * and page), the diff — are imported when they run, not here. A worker
 * process starts through this file, and the tests and benchmarks start
 * hundreds of them. Imported up front, those modules and the Redis client
 * (see redis-probe.ts) took about 90 ms of the 1 s from a worker's spawn
 * to its "running with" line (2 cores, step 08).
 *
 * @module
 */

import { checkEnqueueOptions } from "../../enqueue-options.ts";
import { workshopJobs } from "../../jobs/catalog.ts";
import type { Step, StepInstance } from "../../step.ts";
import type { RunContext } from "../demo.ts";
import { loadStep, loadSteps } from "../step-directory.ts";
import {
  requireBatches,
  runBatchesCommand,
  runCreateBatchCommand,
  runSealBatchCommand,
} from "./commands/batches.ts";
import { requireDeadQueue, runFailedCommand, runRetryCommand } from "./commands/dead-queue.ts";
import {
  describeJobs,
  parseEnqueueArguments,
  parseEnqueueOptions,
  readArgumentsText,
  runEnqueueCommand,
} from "./commands/enqueue.ts";
import { requireSchedules, runSchedulesCommand } from "./commands/schedules.ts";
import { runStatsCommand } from "./commands/stats.ts";
import { requireSupervisor, runSupervisorCommand } from "./commands/supervisor.ts";
import { runWorkerCommand } from "./commands/worker.ts";
import { opener, openStep, openStepWhenReachable, type ServiceUrls } from "./connect.ts";
import { integerFlag, type Parsed, parseFlags } from "./parse.ts";
import { runMain } from "./run-main.ts";
import { endWhenOutputCloses } from "./terminal.ts";
import { COMMAND_USAGE, stepUsage, topUsage } from "./usage.ts";
import { UsageError } from "./usage-error.ts";
import { dropOtherStepsSettings, readWorkerSettings, workerFlagSpec } from "./worker-flags.ts";

async function main(argv: readonly string[]): Promise<number> {
  const [first, command = "story", ...rest] = argv;
  if (first === undefined || first === "list") {
    console.log(topUsage(await loadSteps()));
    return 0;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    console.log(topUsage(await loadSteps()));
    return 0;
  }
  // The named step alone: the other steps are imported only by a command that needs them.
  const step = await loadStep(first);
  if (!step) {
    throw new UsageError(`Unknown step ${JSON.stringify(first)}.`, topUsage(await loadSteps()));
  }
  if (command === "--help" || command === "-h" || command === "help") {
    console.log(stepUsage(step));
    return 0;
  }
  return runCommand(step, command, rest);
}

/** `--namespace NAME`: another schema / key prefix than the step's own (`step_NN`). */
const NAMESPACE_FLAG = { namespace: { type: "string" } } as const;

async function runCommand(step: Step, command: string, args: readonly string[]): Promise<number> {
  const n = step.id;
  const urls: ServiceUrls = {};
  const withInstance = async (
    parsed: Parsed,
    work: (instance: StepInstance) => Promise<void>,
    open: typeof openStep = openStep,
  ) => {
    const namespace =
      typeof parsed.flags.namespace === "string" ? parsed.flags.namespace : undefined;
    const instance = await open(step, urls, { namespace });
    try {
      await work(instance);
    } finally {
      await instance.close();
    }
  };

  switch (command) {
    case "story":
    case "bench": {
      const usage = command === "story" ? COMMAND_USAGE.story(n) : COMMAND_USAGE.bench(n);
      const parsed = parseFlags(
        args,
        command === "bench" ? { quick: { type: "boolean" }, dashboard: { type: "boolean" } } : {},
        usage,
        0,
      );
      if (parsed.flags.help) return printed(usage);
      const [{ RESULTS_DIR }, { runDashboardBenchmark }, { runDemo }, { saveChart, saveResults }] =
        await Promise.all([
          import("../bench/results-file.ts"),
          import("../dashboard/bench.ts"),
          import("../demo.ts"),
          import("./save-results.ts"),
        ]);
      const context: RunContext = {
        open: opener(await loadSteps(), step, urls),
        out: { line: (text = "") => console.log(text) },
        quick: parsed.flags.quick === true,
        saveResults: (benchmark, settings, results) =>
          saveResults(urls, benchmark, parsed.flags.quick === true, settings, results),
        saveChart: (file, chart) => saveChart(RESULTS_DIR, file, chart),
      };
      // --dashboard: what the dashboard costs this step, instead of its own scenario.
      if (parsed.flags.dashboard === true) await runDashboardBenchmark(context);
      else await runDemo(step, command === "story" ? "story" : "benchmark", context);
      return 0;
    }
    case "worker": {
      const usage = COMMAND_USAGE.worker(step);
      const ownArgs = await dropOtherStepsSettings(args, step, loadSteps, (line) =>
        console.error(line),
      );
      const parsed = parseFlags(ownArgs, workerFlagSpec(step), usage, 0);
      if (parsed.flags.help) return printed(usage);
      const settings = readWorkerSettings(step, parsed, usage);
      const concurrency = integerFlag(parsed, "concurrency", usage, 1, 1000);
      const processes = integerFlag(parsed, "processes", usage, 1, 100);
      if (processes !== undefined) {
        requireSupervisor(step);
        await withInstance(
          parsed,
          (instance) =>
            runSupervisorCommand(instance, processes, withoutFlag(ownArgs, "processes"), settings),
          openStepWhenReachable,
        );
        return 0;
      }
      await withInstance(
        parsed,
        (instance) => runWorkerCommand(instance, { concurrency, ...settings }),
        openStepWhenReachable,
      );
      return 0;
    }
    case "enqueue": {
      const registry = workshopJobs();
      const usage = COMMAND_USAGE.enqueue(n, describeJobs(registry));
      const spec = {
        ...NAMESPACE_FLAG,
        count: { type: "string" },
        at: { type: "string" },
        in: { type: "string" },
        priority: { type: "string" },
        queue: { type: "string" },
        key: { type: "string" },
        limit: { type: "string" },
        "rate-limit": { type: "string" },
        "rate-key": { type: "string" },
        "args-file": { type: "string" },
        batch: { type: "string" },
      } as const;
      const parsed = parseFlags(args, spec, usage, 2);
      if (parsed.flags.help) return printed(usage);
      const argsFile = parsed.flags["args-file"];
      const { name, args: jobArgs } = parseEnqueueArguments(
        registry,
        parsed.positionals[0],
        await readArgumentsText(
          parsed.positionals[1],
          typeof argsFile === "string" ? argsFile : undefined,
          usage,
        ),
        usage,
      );
      const count = integerFlag(parsed, "count", usage, 1, 1_000_000) ?? 1;
      const options = parseEnqueueOptions(parsed, usage);
      const batch = typeof parsed.flags.batch === "string" ? parsed.flags.batch : undefined;
      // Before opening the step, which creates its schema: a refused command changes nothing.
      checkEnqueueOptions(step, [{ ...options, name, args: jobArgs }]);
      if (batch !== undefined) requireBatches(step);
      await withInstance(parsed, (instance) =>
        runEnqueueCommand(instance, name, jobArgs, count, options, batch),
      );
      return 0;
    }
    case "failed": {
      endWhenOutputCloses();
      const usage = COMMAND_USAGE.failed(n);
      const spec = {
        ...NAMESPACE_FLAG,
        json: { type: "boolean" },
        stacks: { type: "boolean" },
      } as const;
      const parsed = parseFlags(args, spec, usage, 0);
      if (parsed.flags.help) return printed(usage);
      requireDeadQueue(step);
      await withInstance(parsed, (instance) =>
        runFailedCommand(instance, {
          json: parsed.flags.json === true,
          stacks: parsed.flags.stacks === true,
        }),
      );
      return 0;
    }
    case "retry": {
      const usage = COMMAND_USAGE.retry(n);
      const parsed = parseFlags(args, { ...NAMESPACE_FLAG, all: { type: "boolean" } }, usage, 1000);
      if (parsed.flags.help) return printed(usage);
      const all = parsed.flags.all === true;
      if (all === parsed.positionals.length > 0) {
        throw new UsageError("Give the ids of the jobs to retry, or --all (not both).", usage);
      }
      requireDeadQueue(step);
      await withInstance(parsed, (instance) =>
        runRetryCommand(instance, all ? "all" : parsed.positionals),
      );
      return 0;
    }
    case "batches": {
      const usage = COMMAND_USAGE.batches(n);
      const spec = {
        ...NAMESPACE_FLAG,
        json: { type: "boolean" },
        "on-finish": { type: "string" },
        "on-success": { type: "string" },
        "on-dead": { type: "string" },
      } as const;
      const parsed = parseFlags(args, spec, usage, 2);
      if (parsed.flags.help) return printed(usage);
      const [action, id] = parsed.positionals;
      const callbacks = {
        onFinish: stringFlag(parsed, "on-finish"),
        onSuccess: stringFlag(parsed, "on-success"),
        onDead: stringFlag(parsed, "on-dead"),
      };
      const callbackGiven = Object.values(callbacks).some((value) => value !== undefined);
      if (action !== undefined && action !== "create" && action !== "seal") {
        throw new UsageError(`Unknown batches action ${JSON.stringify(action)}.`, usage);
      }
      if ((action === "seal") !== (id !== undefined)) {
        throw new UsageError("Give the id of the batch to seal: batches seal <id>.", usage);
      }
      if (callbackGiven && action !== "create") {
        throw new UsageError("--on-finish, --on-success and --on-dead go with create.", usage);
      }
      requireBatches(step);
      await withInstance(parsed, (instance) => {
        if (action === "create") return runCreateBatchCommand(instance, callbacks);
        if (id !== undefined) return runSealBatchCommand(instance, id);
        return runBatchesCommand(instance, parsed.flags.json === true);
      });
      return 0;
    }
    case "schedules": {
      const usage = COMMAND_USAGE.schedules(n);
      const parsed = parseFlags(args, { ...NAMESPACE_FLAG, json: { type: "boolean" } }, usage, 0);
      if (parsed.flags.help) return printed(usage);
      requireSchedules(step);
      await withInstance(parsed, (instance) =>
        runSchedulesCommand(instance, parsed.flags.json === true),
      );
      return 0;
    }
    case "stats": {
      endWhenOutputCloses();
      const usage = COMMAND_USAGE.stats(n);
      const parsed = parseFlags(args, { ...NAMESPACE_FLAG, json: { type: "boolean" } }, usage, 0);
      if (parsed.flags.help) return printed(usage);
      await withInstance(parsed, (instance) =>
        runStatsCommand(instance, parsed.flags.json === true),
      );
      return 0;
    }
    case "dashboard": {
      const usage = COMMAND_USAGE.dashboard(n);
      const spec = {
        ...NAMESPACE_FLAG,
        port: { type: "string" },
        host: { type: "string" },
        refresh: { type: "string" },
      } as const;
      const parsed = parseFlags(args, spec, usage, 0);
      if (parsed.flags.help) return printed(usage);
      const options = {
        host: stringFlag(parsed, "host") ?? "127.0.0.1",
        port: integerFlag(parsed, "port", usage, 0, 65_535) ?? 0,
        refreshMs: integerFlag(parsed, "refresh", usage, 100, 60_000) ?? 1000,
      };
      endWhenOutputCloses();
      const { runDashboardCommand } = await import("./commands/dashboard.ts");
      await withInstance(parsed, (instance) => runDashboardCommand(instance, options));
      return 0;
    }
    case "reset": {
      const usage = COMMAND_USAGE.reset(n);
      const parsed = parseFlags(args, NAMESPACE_FLAG, usage, 0);
      if (parsed.flags.help) return printed(usage);
      await withInstance(parsed, async (instance) => {
        await instance.reset();
        const where =
          step.backend === "postgres"
            ? `, tables recreated in schema ${instance.namespace}`
            : ` (every key under ${instance.namespace}:*)`;
        console.log(`Step ${n}: every job deleted${where}.`);
      });
      return 0;
    }
    case "diff": {
      endWhenOutputCloses();
      const usage = COMMAND_USAGE.diff(n);
      const parsed = parseFlags(args, { all: { type: "boolean" } }, usage, 0);
      if (parsed.flags.help) return printed(usage);
      const { runDiffCommand } = await import("./commands/diff.ts");
      return runDiffCommand(
        step,
        step.buildsOn === null ? undefined : await loadStep(step.buildsOn),
        parsed.flags.all === true ? "all" : "queue",
      );
    }
    default:
      throw new UsageError(`Unknown command ${JSON.stringify(command)}.`, stepUsage(step));
  }
}

/**
 * `args` without `--name VALUE` / `--name=VALUE`, and without `--namespace`
 * (which the supervisor passes to its workers itself): the flags a
 * supervisor hands on to each worker process.
 */
function withoutFlag(args: readonly string[], name: string): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === `--${name}` || arg === "--namespace") i++;
    else if (!arg.startsWith(`--${name}=`) && !arg.startsWith("--namespace=")) kept.push(arg);
  }
  return kept;
}

function stringFlag(parsed: Parsed, name: string): string | undefined {
  const value = parsed.flags[name];
  return typeof value === "string" ? value : undefined;
}

function printed(text: string): number {
  console.log(text);
  return 0;
}

runMain(() => main(process.argv.slice(2)));

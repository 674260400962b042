/**
 * Every usage text of `npm run step`, in one place so they stay consistent.
 *
 * @module
 */
import { type Step, stepFolder } from "../../step.ts";
import { workerFlagsHelp } from "./worker-flags.ts";

export function topUsage(steps: readonly Step[]): string {
  return [
    "Usage: npm run step                      list the steps",
    "       npm run step NN                   run step NN's story (10–30 s)",
    "       npm run step NN -- <command>      see `npm run step NN -- --help`",
    "       npm run bench [-- --quick]        every step on the standard scenarios",
    "       npm run services [-- stop]        the local PostgreSQL / Redis servers",
    "",
    "Steps:",
    ...steps.map((step) => `  ${step.id}  ${step.title}`),
  ].join("\n");
}

export function stepUsage(step: Step): string {
  const n = step.id;
  return [
    `Step ${stepFolder(step)}: ${step.title}`,
    "",
    `Usage: npm run step ${n} [-- <command> [options]]`,
    "",
    "Commands:",
    "  (none) | story   run the story: what this step does and what is still wrong",
    "  worker           run a worker until Ctrl-C        [--concurrency N] [--processes N]",
    `                                                    ${workerSettingsSummary(step)}`,
    "  enqueue          enqueue jobs                     <JobName> [json-args] [--count N]",
    "                                                    [--args-file PATH|-]",
    "                                                    [--at TIME | --in DURATION] [--priority N]",
    "                                                    [--queue NAME] (steps with them, 07 on)",
    "                                                    [--key KEY [--limit N]] (step 11)",
    "                                                    [--rate-limit N/PERIOD --rate-key KEY] (12)",
    "                                                    [--batch ID] (steps with batches, 14)",
    "  stats            jobs per state and per queue     [--json]",
    "  failed           the dead queue (07 on)           [--stacks] [--json]",
    "  retry            dead jobs back to ready (07 on)  <id…> | --all",
    "  schedules        recurring jobs: last, next run   [--json] (13)",
    "  batches          groups of jobs (14): list them   [create [--on-finish NAME] …]",
    "                                                    [seal <id>] [--json]",
    "  dashboard        the queue live in a browser      [--port N] [--host ADDR] [--refresh MS]",
    "  bench            this step's own benchmark        [--quick] [--dashboard]",
    "  reset            delete this step's jobs and recreate its tables",
    "  diff             the code diff against the step it builds on",
    "",
    "worker, enqueue, stats, failed, retry, schedules, batches, dashboard and reset take --namespace NAME to use another",
    `schema / key prefix than the step's own (step_${n}).`,
    "",
    `Each command has --help, e.g. npm run step ${n} -- enqueue --help`,
  ].join("\n");
}

const NAMESPACE_HELP =
  "  --namespace NAME   another schema / key prefix than the step's own (step_NN)";

export const COMMAND_USAGE = {
  story: (n: string) =>
    `Usage: npm run step ${n} [-- story]\n\nRuns the step's story in the terminal and exits.`,
  worker: (step: Step) =>
    [
      `Usage: npm run step ${step.id} -- worker [options]`,
      "",
      "Runs a worker in this terminal until Ctrl-C (SIGINT) or SIGTERM, then finishes",
      "the jobs it is running and exits. Enqueue from another terminal.",
      "",
      ...workerFlagsHelp(step),
      NAMESPACE_HELP,
    ].join("\n"),
  enqueue: (n: string, jobs: readonly string[]) =>
    [
      `Usage: npm run step ${n} -- enqueue <JobName> [json-args | --args-file PATH|-] [--count N] [--at TIME | --in DURATION] [--priority N] [--queue NAME] [--key KEY [--limit N]] [--rate-limit N/PERIOD --rate-key KEY] [--batch ID] [--namespace NAME]`,
      "",
      "Enqueues a job; json-args is one JSON value (quote it for your shell).",
      `  e.g. npm run step ${n} -- enqueue SendWelcomeEmail '{"userId": 42}' --count 5`,
      "",
      "  --args-file PATH   read json-args from a file, or with - from stdin",
      "  --count N          enqueue N copies (default 1)",
      "  --at TIME          run no earlier than TIME (ISO 8601, e.g. 2026-12-01T09:00:00Z)",
      "  --in DURATION      run no earlier than DURATION from now (500ms, 30s, 10m, 2h, 1d)",
      "  --priority N       0 (most urgent) to 32767; lower runs first (default 100)",
      "  --queue NAME       the named queue it goes to (default: default)",
      "                     (--at, --in, --priority and --queue: steps with scheduled",
      "                     jobs and priorities, 07 on; others refuse them)",
      "  --key KEY          its concurrency key, e.g. account:42: at most --limit jobs",
      "                     with this key run at once, the others wait in enqueue order",
      "  --limit N          how many of the key's jobs may run at once (default 1)",
      "                     (--key and --limit: steps with concurrency limits, 11;",
      "                     others refuse them)",
      "  --rate-limit N/PERIOD --rate-key KEY",
      "                     at most N jobs of KEY start per PERIOD (10/1s, 10/s, 100/5m);",
      "                     the rest wait, no attempt spent (step 12; others refuse it)",
      "  --batch ID         add them to open batch ID (steps with batches, 14;",
      "                     see batches --help)",
      NAMESPACE_HELP,
      "",
      "Jobs:",
      ...jobs,
    ].join("\n"),
  stats: (n: string) =>
    `Usage: npm run step ${n} -- stats [--json] [--namespace NAME]\n\nPrints how many jobs are in each state, how many are ready in each queue and how\nlong the oldest there has waited, (06 on) the worker processes, (11) the jobs\nblocked per concurrency key, and (12) each rate key: its limit, its jobs waiting\nand when the next may start.\n\n  --json             one line of JSON\n${NAMESPACE_HELP}`,
  bench: (n: string) =>
    `Usage: npm run step ${n} -- bench [--quick] [--dashboard]\n\nRuns the scenario this step exists for; --quick finishes in seconds.\n\n  --dashboard        instead, what the dashboard costs this step: throughput with and\n                     without it open (polled every second), and each view's time\n                     with 100,000 finished jobs`,
  reset: (n: string) =>
    `Usage: npm run step ${n} -- reset [--namespace NAME]\n\nDeletes this step's jobs and recreates its tables (its keys, on Redis).\n\n${NAMESPACE_HELP}`,
  failed: (n: string) =>
    [
      `Usage: npm run step ${n} -- failed [--stacks] [--json] [--namespace NAME]`,
      "",
      "Lists the dead queue: jobs that failed their last attempt, with their error,",
      "for steps with retries (07 on).",
      "",
      "  --stacks           print each job's stack under it",
      "  --json             one line of JSON",
      NAMESPACE_HELP,
    ].join("\n"),
  retry: (n: string) =>
    [
      `Usage: npm run step ${n} -- retry <id…> | --all [--namespace NAME]`,
      "",
      "Puts jobs from the dead queue back to ready, with a fresh set of attempts,",
      "for steps with retries (07 on). Ids not in the dead queue are skipped.",
      "",
      "  --all              every job in the dead queue",
      NAMESPACE_HELP,
    ].join("\n"),
  batches: (n: string) =>
    [
      `Usage: npm run step ${n} -- batches [--json] [--namespace NAME]`,
      `       npm run step ${n} -- batches create [--on-finish NAME] [--on-success NAME] [--on-dead NAME]`,
      `       npm run step ${n} -- batches seal <id>`,
      "",
      "Groups of jobs with a callback when they are done, for steps with batches (14).",
      "Without an action, lists every batch: its jobs in all, pending, succeeded and",
      "dead, whether it is open, sealed or completed, and the callbacks it has fired.",
      "",
      "  create             creates an open batch; add jobs with enqueue --batch ID",
      "  --on-finish NAME   the job enqueued once every job of the sealed batch is done",
      "  --on-success NAME  the job enqueued then too, if none of them went dead",
      "  --on-dead NAME     the job enqueued when the first of them goes to the dead queue",
      "                     (callbacks are jobs: they get the batch's counts as arguments)",
      "  seal <id>          no job can be added any more; with none pending, completes now",
      "  --json             one line of JSON",
      NAMESPACE_HELP,
    ].join("\n"),
  schedules: (n: string) =>
    [
      `Usage: npm run step ${n} -- schedules [--json] [--namespace NAME]`,
      "",
      "Lists the recurring schedules declared in the step's code, for steps with",
      "recurring jobs (13): each one's cron expression, job, last tick enqueued (by",
      "any scheduler) and next tick. A supervisor runs those its --schedules flag names.",
      "",
      "  --json             one line of JSON",
      NAMESPACE_HELP,
    ].join("\n"),
  dashboard: (n: string) =>
    [
      `Usage: npm run step ${n} -- dashboard [--port N] [--host ADDR] [--refresh MS] [--namespace NAME]`,
      "",
      "Serves a web page of this step's queue until Ctrl-C: jobs per state and per",
      "queue, a chart of the last minute, the processes and their heartbeats (06 on),",
      "the dead queue with retry and discard, and scheduled jobs (07 on). Open the",
      "address it prints.",
      "",
      "  --port N           the port to listen on (default: a free one)",
      "  --host ADDR        the address to listen on (default 127.0.0.1, this machine",
      "                     only). Anyone who reaches it can retry and discard jobs:",
      "                     there is no password (see the README)",
      "  --refresh MS       how often the page updates, in milliseconds (default 1000)",
      NAMESPACE_HELP,
    ].join("\n"),
  diff: (n: string) =>
    `Usage: npm run step ${n} -- diff [--all]\n\nShows what this step changed in the queue code of the step it builds on, as both are\ncommitted: your own edits of either step are not in it (it says so when there are some).\n\n  --all              the lesson (README.md), the demonstration (demo/) and the tests too`,
} as const;

/** The step's own worker flags, for the summary line of `npm run step NN -- --help`. */
function workerSettingsSummary(step: Step): string {
  const flags = Object.values(step.workerSettings).map(
    (setting) => `--${setting.flag} ${setting.kind.placeholder}`,
  );
  if (flags.length === 0) return "(no settings of its own)";
  return flags.length <= 2
    ? `[${flags.join("] [")}]`
    : `and ${flags.length} settings of this step: see worker --help`;
}

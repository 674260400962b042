/**
 * `npm run step NN -- enqueue <JobName> [json-args | --args-file PATH|-] [--count N]`,
 * and for steps that support them `--at`, `--in`, `--priority`, `--queue`,
 * `--key` and `--limit`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { text as readAll } from "node:stream/consumers";
import { MAX_CONCURRENCY_LIMIT } from "../../../enqueue-options.ts";
import { checkJobArguments } from "../../../jobs/argument-schema.ts";
import type { JsonValue } from "../../../jobs/arguments.ts";
import { JobArgumentsError } from "../../../jobs/errors.ts";
import type { JobRegistry } from "../../../jobs/registry.ts";
import type { EnqueueOptions, StepInstance } from "../../../step.ts";
import { summarizeArguments } from "../argument-summary.ts";
import { integerFlag, type Parsed } from "../parse.ts";
import { parseRateLimitFlags } from "../rate-limit-flag.ts";
import { UsageError } from "../usage-error.ts";
import { parseDuration, parseTime } from "../when.ts";
import { batchesOf } from "./batches.ts";

/**
 * The arguments as JSON text: the word after the job name, or what
 * `--args-file` names — a file, or `-` for stdin. A file is how large
 * arguments get in: Linux refuses one command-line word over 128 KiB, and a
 * shell makes quoting JSON an exercise; `-` lets another program pipe them.
 */
export async function readArgumentsText(
  word: string | undefined,
  file: string | undefined,
  usage: string,
): Promise<{ text: string; from: string } | undefined> {
  if (file === undefined) return word === undefined ? undefined : { text: word, from: "" };
  if (word !== undefined) {
    throw new UsageError(
      "Give the arguments after the job name or with --args-file, not both.",
      usage,
    );
  }
  if (file === "-") {
    if (process.stdin.isTTY) {
      process.stderr.write("Reading the arguments from stdin; end them with Ctrl-D.\n");
    }
    return { text: await readAll(process.stdin), from: " from stdin" };
  }
  try {
    return { text: await readFile(file, "utf8"), from: ` in ${file}` };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`--args-file: cannot read ${file} (${reason}).`, usage);
  }
}

/** Checks the job name and parses the arguments before anything is stored. */
export function parseEnqueueArguments(
  registry: JobRegistry,
  name: string | undefined,
  argsText: { readonly text: string; readonly from: string } | undefined,
  usage: string,
): { name: string; args: JsonValue } {
  if (name === undefined) throw new UsageError("Missing the job name.", usage);
  // The worker would refuse an unknown name anyway (the registry is an
  // allowlist); refusing here too saves a failed job and says why at once.
  if (!registry.has(name)) {
    throw new UsageError(
      `Unknown job ${JSON.stringify(name)}. Known jobs: ${registry.names().join(", ")}.`,
      usage,
    );
  }
  const definition = registry.lookup(name);
  if (argsText === undefined) return { name, args: definition.exampleArguments };
  let args: JsonValue;
  try {
    args = JSON.parse(argsText.text) as JsonValue;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      argsText.from === ""
        ? `The arguments are not JSON (${reason}). Quote them for your shell: '{"userId": 42}'.`
        : `The arguments${argsText.from} are not JSON (${reason}): write one JSON value there, e.g. {"userId": 42}.`,
      usage,
    );
  }
  // The queue checks them again when it stores them; checking here first
  // refuses them with the usage, which lists what every job takes.
  try {
    checkJobArguments(definition, args);
  } catch (error) {
    if (error instanceof JobArgumentsError) throw new UsageError(error.message, usage);
    throw error;
  }
  return { name, args };
}

/** The jobs `enqueue` knows, for its usage: what each does, takes, and an example. */
export function describeJobs(registry: JobRegistry): string[] {
  return registry
    .definitions()
    .flatMap((job) => [
      `  ${job.name.padEnd(18)} ${job.description}`,
      `  ${"".padEnd(18)} takes ${summarizeArguments(job)}, e.g. '${JSON.stringify(job.exampleArguments)}'`,
    ]);
}

/**
 * `--at`, `--in`, `--priority`, `--queue`, `--key`, `--limit`, `--rate-limit`
 * with `--rate-key`, as {@link EnqueueOptions}. Whether
 * the step supports them is the step's to say (it refuses what it cannot
 * honour, naming the step that adds it); this only reads them.
 */
export function parseEnqueueOptions(parsed: Parsed, usage: string): EnqueueOptions {
  const { at, in: delay, queue, key } = parsed.flags;
  if (typeof at === "string" && typeof delay === "string") {
    throw new UsageError("Give --at or --in, not both.", usage);
  }
  const runAt =
    typeof at === "string"
      ? parseTime(at, usage)
      : typeof delay === "string"
        ? new Date(Date.now() + parseDuration(delay, usage))
        : undefined;
  const priority = integerFlag(parsed, "priority", usage, 0, 32_767);
  const limit = integerFlag(parsed, "limit", usage, 1, MAX_CONCURRENCY_LIMIT);
  if (limit !== undefined && typeof key !== "string") {
    throw new UsageError("--limit applies to a concurrency key: give --key too.", usage);
  }
  const rateLimit = parseRateLimitFlags(parsed, usage);
  return {
    ...(typeof key === "string" ? { concurrency: { key, limit: limit ?? 1 } } : {}),
    ...(rateLimit === undefined ? {} : { rateLimit }),
    ...(runAt === undefined ? {} : { runAt }),
    ...(priority === undefined ? {} : { priority }),
    ...(typeof queue === "string" ? { queue } : {}),
  };
}

export async function runEnqueueCommand(
  instance: StepInstance,
  name: string,
  args: JsonValue,
  count: number,
  options: EnqueueOptions = {},
  batch?: string,
): Promise<void> {
  const jobs = Array.from({ length: count }, () => ({ ...options, name, args }));
  // Into a batch (steps with batches): added to it, all or nothing.
  const ids =
    batch === undefined
      ? await instance.enqueueMany(jobs)
      : await batchesOf(instance).add(batch, jobs);
  const shown = ids.length > 5 ? `${ids.slice(0, 3).join(", ")}, …, ${ids.at(-1)}` : ids.join(", ");
  const where = [
    options.queue === undefined ? "" : ` on queue ${options.queue}`,
    options.priority === undefined ? "" : ` with priority ${options.priority}`,
    options.runAt === undefined ? "" : `, to run at ${options.runAt.toISOString()}`,
    batch === undefined ? "" : `, in batch ${batch}`,
    options.concurrency === undefined
      ? ""
      : `, key ${options.concurrency.key} (at most ${options.concurrency.limit} at once)`,
    options.rateLimit === undefined
      ? ""
      : `, at most ${options.rateLimit.limit} of key ${options.rateLimit.key} starting per ${options.rateLimit.periodMs} ms`,
  ].join("");
  const text = JSON.stringify(args);
  // Arguments from a file can be long; the terminal gets their start.
  const argsShown = text.length > 200 ? `${text.slice(0, 200)}… (${text.length} characters)` : text;
  console.log(
    `Enqueued ${ids.length} ${name} job(s) with arguments ${argsShown}${where}: id ${shown}`,
  );
}

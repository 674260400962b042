/**
 * The `worker` command's flags: those every step's worker takes
 * (`--concurrency`, `--processes`, `--namespace`), and those a step declares
 * itself in {@link Step.workerSettings} — read from the step, so a setting
 * added to a step needs no change here.
 *
 * @module
 */
import { type Step, stepFolder } from "../../step.ts";
import { WorkerSettingError } from "../../worker-settings.ts";
import type { FlagSpec, Parsed } from "./parse.ts";
import { UsageError } from "./usage-error.ts";

/** The flags every worker takes, with their help lines. */
export const COMMON_WORKER_FLAGS = {
  concurrency: { placeholder: "N", help: "jobs run at once (default 1)" },
  processes: {
    placeholder: "N",
    help: "a supervisor of N worker processes with these flags, restarted if they die (06 on)",
  },
} as const;

/** What `parseFlags` needs to read the `worker` command of `step`. */
export function workerFlagSpec(step: Step): FlagSpec {
  const spec: FlagSpec = { namespace: { type: "string" } };
  for (const flag of Object.keys(COMMON_WORKER_FLAGS)) spec[flag] = { type: "string" };
  for (const setting of Object.values(step.workerSettings)) {
    spec[setting.flag] = { type: "string" };
  }
  return spec;
}

/**
 * Takes out of `args` the flags that are other steps' settings and not this
 * one's, and says so: "step 05 has no --shutdown-timeout (a setting of step
 * 08): ignored". They are dropped rather than refused so that one command
 * line can start a worker of any step, as the contract suite and the
 * benchmarks do; a flag no step has is still an error.
 */
export async function dropOtherStepsSettings(
  args: readonly string[],
  step: Step,
  loadSteps: () => Promise<readonly Step[]>,
  warn: (line: string) => void,
): Promise<string[]> {
  const own = new Set(Object.keys(workerFlagSpec(step)));
  // The other steps are imported only when a flag is not this step's: a worker's usual start
  // imports its own step alone.
  let steps: readonly Step[] | undefined;
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const [, flag, inlineValue] = /^--([a-z-]+)(=.*)?$/.exec(arg) ?? [];
    if (flag === undefined || own.has(flag)) {
      kept.push(arg);
      continue;
    }
    steps ??= await loadSteps();
    const others = steps.filter((other) =>
      Object.values(other.workerSettings).some((setting) => setting.flag === flag),
    );
    if (others.length === 0) {
      kept.push(arg);
      continue;
    }
    const ids = others.map((other) => other.id);
    const owners = ids.length === 1 ? `step ${ids[0]}` : `steps ${ids.join(", ")}`;
    warn(`note: step ${stepFolder(step)} has no --${flag} (a setting of ${owners}): ignored.`);
    if (inlineValue === undefined) i++; // and its value
  }
  return kept;
}

/** The step's settings given on the command line, by their names in code, each parsed and checked. */
export function readWorkerSettings(
  step: Step,
  parsed: Parsed,
  usage: string,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(step.workerSettings)) {
    const text = parsed.flags[setting.flag];
    if (typeof text !== "string") continue;
    try {
      values[name] = setting.kind.parse(text);
    } catch (error) {
      if (!(error instanceof WorkerSettingError)) throw error;
      throw new UsageError(`--${setting.flag} ${error.message}`, usage);
    }
  }
  return values;
}

/** `--help` lines for the flags of `step`'s worker: the common ones, then the step's own. */
export function workerFlagsHelp(step: Step): string[] {
  const rows: [string, string][] = Object.entries(COMMON_WORKER_FLAGS).map(
    ([flag, { placeholder, help }]) => [`--${flag} ${placeholder}`, help],
  );
  for (const setting of Object.values(step.workerSettings)) {
    const byDefault =
      setting.default === undefined ? "" : ` (default: ${setting.kind.format(setting.default)})`;
    rows.push([`--${setting.flag} ${setting.kind.placeholder}`, `${setting.help}${byDefault}`]);
  }
  return rows.flatMap(([flag, help]) => helpRow(flag, help));
}

const FLAG_COLUMN = 20;
const LINE_WIDTH = 80;

/** A flag and its help, the help wrapped in a column of its own (below the flag when the flag is long). */
function helpRow(flag: string, help: string): string[] {
  const indent = " ".repeat(FLAG_COLUMN + 3);
  const lines: string[] = [];
  let line = "";
  for (const word of help.split(" ")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > LINE_WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  const head =
    flag.length <= FLAG_COLUMN
      ? [`  ${flag.padEnd(FLAG_COLUMN)} ${lines.shift() ?? ""}`]
      : [`  ${flag}`];
  return [...head, ...lines.map((text) => `${indent}${text}`)];
}

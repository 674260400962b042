/**
 * Parsing flags with Node's own `util.parseArgs`, strictly: an unknown flag
 * or a missing value is a {@link UsageError}, never silently ignored.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { npmKeptMessage, optionsNpmKept } from "./npm-arguments.ts";
import { UsageError } from "./usage-error.ts";

export type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

export interface Parsed {
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export function parseFlags(
  args: readonly string[],
  spec: FlagSpec,
  usage: string,
  maxPositionals: number,
): Parsed {
  const keptByNpm = optionsNpmKept(spec);
  if (keptByNpm.length > 0) {
    throw new UsageError(npmKeptMessage(keptByNpm, spec, args), usage);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: withNegativeNumbersAttached(args, spec),
      options: { ...spec, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error), usage);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`Unexpected argument: ${parsed.positionals[maxPositionals]}`, usage);
  }
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    flags[name] = Array.isArray(value) ? value.at(-1) : value;
  }
  return { flags, positionals: parsed.positionals };
}

/**
 * `--count -1` as `--count=-1`. parseArgs cannot tell whether `-1` is the
 * value or a forgotten value followed by an option `-1`, and says only that
 * the argument is ambiguous; no option of ours starts with a digit, so it is
 * the value, and the flag's own check then says what range it must be in.
 */
function withNegativeNumbersAttached(args: readonly string[], spec: FlagSpec): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const next = args[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    if (
      name !== undefined &&
      spec[name]?.type === "string" &&
      next !== undefined &&
      /^-[\d.]/.test(next)
    ) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** parseArgs' messages are good but long, and one of them says only "ambiguous": one sentence each. */
function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const option = /^Option '(--[\w-]+)/.exec(message)?.[1];
  if (option !== undefined && message.includes("argument is ambiguous")) {
    return `${option} needs a value, and the word after it starts with '-' like an option: if that word is the value, write ${option}=VALUE.`;
  }
  if (option !== undefined && message.includes("argument missing")) {
    return `${option} needs a value after it.`;
  }
  return message.split(". ")[0] ?? message;
}

/** A flag that must be a whole number in a range, e.g. `--concurrency 10`. */
export function integerFlag(
  parsed: Parsed,
  name: string,
  usage: string,
  min: number,
  max: number,
): number | undefined {
  const value = parsed.flags[name];
  if (value === undefined) return undefined;
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(
      `--${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}.`,
      usage,
    );
  }
  return number;
}

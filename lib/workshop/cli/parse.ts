/**
 * Parsing flags with Node's own `util.parseArgs`, strictly: an unknown flag
 * or a missing value is a {@link UsageError}, never silently ignored.
 *
 * @module
 */
import { parseArgs } from "node:util";
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
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...spec, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    // parseArgs' messages are good but long; keep the first sentence.
    const message =
      error instanceof Error ? (error.message.split(". ")[0] ?? error.message) : String(error);
    throw new UsageError(message, usage);
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
      `--${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`,
      usage,
    );
  }
  return number;
}

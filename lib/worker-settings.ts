/**
 * Worker settings: what a step's worker can be tuned with beyond what every
 * worker has (a registry, a number of slots, a name). Step 01 has a poll
 * interval; step 06 adds heartbeats; step 08 a shutdown timeout. Each step
 * declares its own — the value's kind, its command-line flag, its default and
 * a line of help — and the CLI (the flags `worker` accepts, `worker --help`),
 * the docs and the step's code all read that one declaration. Adding a
 * setting to a step touches that step only.
 *
 * The alternative this replaced: one `WorkerOptions` interface in the
 * contract listing every step's settings, each tagged "(06 on)", "(08 on)".
 * The contract then knew every later lesson, a new setting meant editing the
 * contract, the CLI's flag table, its parser and its help, and a step could
 * not say that its `--poll-interval` is a fallback while step 01's is the
 * whole mechanism.
 *
 * @module
 */
import { QUEUE_NAME_RULE, queueNameProblem } from "./enqueue-options.ts";
import { InputError } from "./input-error.ts";
import type { RetryBackoff } from "./step.ts";

/** A kind of value a setting holds: how it is typed on a command line, and how it is checked. */
export interface SettingKind<T> {
  /** How the value is written on the command line, for `--help`: `MS`, `A,B`. */
  readonly placeholder: string;
  /** What a valid value is, for error messages: "a whole number of milliseconds from 1 to 600000". */
  readonly expected: string;
  /**
   * Reads a flag's text. When it is not a valid value, throws a
   * {@link WorkerSettingError} whose message follows the flag's name:
   * "must be a whole number …, not "abc"."
   */
  parse(text: string): T;
  /** Whether a value given in code (a test, a story) is a valid value. */
  accepts(value: unknown): value is T;
  /** Writes a value as it would be typed on the command line. */
  format(value: T): string;
}

/** One setting a step declares. */
export interface WorkerSetting<T> {
  /** Its command-line flag, without the dashes: `poll-interval`. */
  readonly flag: string;
  readonly kind: SettingKind<T>;
  /** What the worker uses when the setting is not given, shown by `--help`. */
  readonly default?: T;
  /** One line for `worker --help`. */
  readonly help: string;
}

/**
 * A step's settings, by the name they have in code (`pollIntervalMs`). The
 * step's worker applies the defaults, where its lesson explains them.
 */
export type WorkerSettings = Readonly<Record<string, WorkerSetting<unknown>>>;

/** The values of a step's settings, typed: each one given, or `undefined`. */
export type SettingValues<Declared extends WorkerSettings> = {
  readonly [Name in keyof Declared]?: Declared[Name] extends WorkerSetting<infer T> ? T : never;
};

/** A setting given a value it cannot hold. Nothing was started. */
export class WorkerSettingError extends InputError {
  override name = "WorkerSettingError";
}

/**
 * Picks a step's settings out of what a worker was started with, checking
 * each one given. Names the step does not declare are left out: the contract
 * suite starts every step with the same short intervals, and a step without
 * a poll simply has no use for one.
 */
export function readSettings<Declared extends WorkerSettings>(
  declared: Declared,
  given: Readonly<Record<string, unknown>>,
): SettingValues<Declared> {
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(declared)) {
    const value = given[name];
    if (value === undefined) continue;
    if (!setting.kind.accepts(value)) {
      throw new WorkerSettingError(
        `Worker setting ${name} must be ${setting.kind.expected}, not ${JSON.stringify(value)}.`,
      );
    }
    values[name] = value;
  }
  // Each value passed its own kind's check just above.
  return values as SettingValues<Declared>;
}

/** The error for a flag's text that is not a value of the kind that `expected` describes. */
function notA(expected: string, text: string): WorkerSettingError {
  return new WorkerSettingError(`must be ${expected}, not ${JSON.stringify(text)}.`);
}

/** A whole number of milliseconds in a range: intervals, thresholds, timeouts. */
export function milliseconds(min: number, max: number): SettingKind<number> {
  return wholeNumber(min, max, { placeholder: "MS", unit: "milliseconds" });
}

/** A whole number in a range, of `unit` if given: a count, a size. */
export function wholeNumber(
  min: number,
  max: number,
  { placeholder = "N", unit }: { readonly placeholder?: string; readonly unit?: string } = {},
): SettingKind<number> {
  const expected = `a whole number${unit === undefined ? "" : ` of ${unit}`} from ${min} to ${max}`;
  const accepts = (value: unknown): value is number =>
    typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max;
  return {
    placeholder,
    expected,
    parse: (text) => {
      const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!accepts(value)) throw notA(expected, text);
      return value;
    },
    accepts,
    format: String,
  };
}

/** An identifier passed from one process to another, e.g. a supervisor's id. */
export function identifier(): SettingKind<string> {
  const expected = "1-100 letters, digits, '_', '.', ':' or '-'";
  const accepts = (value: unknown): value is string =>
    typeof value === "string" && /^[A-Za-z0-9_.:-]{1,100}$/.test(value);
  return {
    placeholder: "ID",
    expected,
    parse: (text) => {
      if (!accepts(text)) throw notA(expected, text);
      return text;
    },
    accepts,
    format: (value) => value,
  };
}

/** A list of named queues, checked as `enqueue` checks a queue name. */
export function queueNames(): SettingKind<readonly string[]> {
  const accepts = (value: unknown): value is readonly string[] =>
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((name) => typeof name === "string" && queueNameProblem(name) === undefined);
  return {
    placeholder: "A,B",
    expected: `one or more queue names separated by commas, each ${QUEUE_NAME_RULE}`,
    parse: (text) => {
      const names = text.split(",").map((name) => name.trim());
      if (names.every((name) => name === "")) {
        throw new WorkerSettingError(
          "names no queue: give one or more, separated by commas, e.g. --queues mail,default.",
        );
      }
      const invalid = names.find((name) => queueNameProblem(name) !== undefined);
      if (invalid !== undefined) {
        throw new WorkerSettingError(
          `has an invalid queue name ${JSON.stringify(invalid)}: use ${QUEUE_NAME_RULE}.`,
        );
      }
      return names;
    },
    accepts,
    format: (value) => value.join(","),
  };
}

/** `BASE_MS,MAX_MS,JITTER`: a {@link RetryBackoff}, all three given, so nothing is guessed. */
export function retryBackoff(): SettingKind<RetryBackoff> {
  const expected = "three numbers BASE_MS,MAX_MS,JITTER, e.g. 500,10000,0.5";
  const accepts = (value: unknown): value is RetryBackoff => {
    if (typeof value !== "object" || value === null) return false;
    const { baseMs, maxMs, jitter } = value as Record<string, unknown>;
    return [baseMs, maxMs, jitter].every(
      (part) => typeof part === "number" && Number.isFinite(part) && part >= 0,
    );
  };
  return {
    placeholder: "BASE_MS,MAX_MS,JITTER",
    expected,
    parse: (text) => {
      const parts = text.split(",");
      const [baseMs, maxMs, jitter] = parts.map(Number);
      const backoff = { baseMs, maxMs, jitter };
      if (parts.length !== 3 || parts.some((part) => part.trim() === "") || !accepts(backoff)) {
        throw notA(expected, text);
      }
      return backoff;
    },
    accepts,
    format: ({ baseMs, maxMs, jitter }) => `${baseMs},${maxMs},${jitter}`,
  };
}

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
import { isQueueName, QUEUE_NAME_RULE } from "./enqueue-options.ts";
import type { RetryBackoff } from "./step.ts";

/** A kind of value a setting holds: how it is typed on a command line, and how it is checked. */
export interface SettingKind<T> {
  /** How the value is written on the command line, for `--help`: `MS`, `A,B`. */
  readonly placeholder: string;
  /** What a valid value is, for error messages: "a whole number of milliseconds from 1 to 600000". */
  readonly expected: string;
  /** Reads a flag's text; `undefined` when it is not a valid value. */
  parse(text: string): T | undefined;
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
export class WorkerSettingError extends Error {
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

/** A whole number of milliseconds in a range: intervals, thresholds, timeouts. */
export function milliseconds(min: number, max: number): SettingKind<number> {
  const accepts = (value: unknown): value is number =>
    typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max;
  return {
    placeholder: "MS",
    expected: `a whole number of milliseconds from ${min} to ${max}`,
    parse: (text) => (/^\d+$/.test(text) && accepts(Number(text)) ? Number(text) : undefined),
    accepts,
    format: String,
  };
}

/** An identifier passed from one process to another, e.g. a supervisor's id. */
export function identifier(): SettingKind<string> {
  const accepts = (value: unknown): value is string =>
    typeof value === "string" && /^[A-Za-z0-9_.:-]{1,100}$/.test(value);
  return {
    placeholder: "ID",
    expected: "1-100 letters, digits, '_', '.', ':' or '-'",
    parse: (text) => (accepts(text) ? text : undefined),
    accepts,
    format: (value) => value,
  };
}

/** A list of named queues, checked as `enqueue` checks a queue name. */
export function queueNames(): SettingKind<readonly string[]> {
  const accepts = (value: unknown): value is readonly string[] =>
    Array.isArray(value) && value.length > 0 && value.every(isQueueName);
  return {
    placeholder: "A,B",
    expected: `one or more queue names separated by commas, each ${QUEUE_NAME_RULE}`,
    parse: (text) => {
      const names = text.split(",").map((name) => name.trim());
      return accepts(names) ? names : undefined;
    },
    accepts,
    format: (value) => value.join(","),
  };
}

/** `BASE_MS,MAX_MS,JITTER`: a {@link RetryBackoff}, all three given, so nothing is guessed. */
export function retryBackoff(): SettingKind<RetryBackoff> {
  const accepts = (value: unknown): value is RetryBackoff => {
    if (typeof value !== "object" || value === null) return false;
    const { baseMs, maxMs, jitter } = value as Record<string, unknown>;
    return [baseMs, maxMs, jitter].every(
      (part) => typeof part === "number" && Number.isFinite(part) && part >= 0,
    );
  };
  return {
    placeholder: "BASE_MS,MAX_MS,JITTER",
    expected: "three numbers BASE_MS,MAX_MS,JITTER, e.g. 500,10000,0.5",
    parse: (text) => {
      const parts = text.split(",");
      if (parts.length !== 3 || parts.some((part) => part.trim() === "")) return undefined;
      const [baseMs, maxMs, jitter] = parts.map(Number);
      const backoff = { baseMs, maxMs, jitter };
      return accepts(backoff) ? backoff : undefined;
    },
    accepts,
    format: ({ baseMs, maxMs, jitter }) => `${baseMs},${maxMs},${jitter}`,
  };
}

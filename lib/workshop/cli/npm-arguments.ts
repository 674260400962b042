/**
 * Options that npm kept for itself.
 *
 * `npm run step 07 worker --concurrency 4` does not pass `--concurrency` on:
 * npm reads every option before a `--` as its own setting, warns that it does
 * not know it, and passes on only what it took for plain words — here `07
 * worker 4`. The command would then see a stray `4`, or, for
 * `--concurrency=4` or `bench --quick`, nothing at all, and run with its
 * defaults. npm leaves a trace: each option it kept is in the environment of
 * the script, as `npm_config_<name>` (`npm_config_concurrency=true`, the `4`
 * left behind as a word). That is enough to say what happened and what to
 * type instead.
 *
 * @module
 */
import type { FlagSpec } from "./parse.ts";

/**
 * Options of ours that npm has settings of its own for: their
 * `npm_config_…` may come from the user's `.npmrc` rather than from the
 * command line, so they prove nothing.
 */
const NPM_OWN_SETTINGS = new Set(["json", "all", "help"]);

/** An option npm kept, and the value it read for it (`true` when it took it for a switch). */
export interface KeptOption {
  readonly name: string;
  readonly value: string;
}

/**
 * The options of `spec` that npm kept, when this process is an npm script;
 * empty otherwise (and for options given after `--`, which npm passes on).
 */
export function optionsNpmKept(spec: FlagSpec, env = process.env): KeptOption[] {
  if (env.npm_lifecycle_event === undefined) return [];
  return Object.keys(spec)
    .filter((name) => !NPM_OWN_SETTINGS.has(name))
    .flatMap((name) => {
      const value = env[`npm_config_${name.replaceAll("-", "_")}`];
      return value === undefined ? [] : [{ name, value }];
    });
}

/**
 * The sentence for options npm kept, with the command as it should have
 * been typed: `npm run step 07 -- worker --concurrency 4`. An option that
 * takes a value and that npm took for a switch (`true`) left its value
 * behind among `args`; those are the last words there, in order, as options
 * are usually typed after the words they go with.
 */
export function npmKeptMessage(
  kept: readonly KeptOption[],
  spec: FlagSpec,
  args: readonly string[],
  env = process.env,
): string {
  const leftBehind = kept.filter(
    ({ name, value }) => spec[name]?.type === "string" && value === "true",
  ).length;
  const values = leftBehind === 0 ? [] : args.slice(-leftBehind);
  const words = args.slice(0, args.length - values.length);
  const options = kept.map(({ name, value }) => {
    if (spec[name]?.type === "boolean") return `--${name}`;
    return `--${name} ${value === "true" ? (values.shift() ?? "VALUE") : value}`;
  });
  // What came before `args` on the command line: the step and the command.
  const before = process.argv.slice(2, process.argv.length - args.length);
  const [first, ...rest] = before;
  const command = [
    "npm run",
    env.npm_lifecycle_event ?? "step",
    ...(first === undefined ? [] : [first]),
    "--",
    ...rest,
    ...words.map(quoteForShell),
    ...options,
  ].join(" ");
  const names = kept.map(({ name }) => `--${name}`).join(", ");
  return `npm kept ${names} for itself: put -- before the options: ${command}`;
}

function quoteForShell(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

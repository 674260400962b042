/**
 * `tsx lib/workshop/cli/services.ts [status|start|stop]`: where PostgreSQL and Redis come from, and the
 * local servers the project runs in the background for every terminal.
 *
 * - `status` (the default) shows, for each service, the override (DATABASE_URL / REDIS_URL) if
 *   one is set, and the local server: running or not, URL, pid, data dir, log file.
 * - `start` starts what the override does not replace (a no-op for what already runs).
 * - `stop` stops the local servers. Servers named by DATABASE_URL / REDIS_URL are never touched.
 *
 * @module
 */
import {
  PostgresUnavailableError,
  RedisUnavailableError,
  ServiceStopError,
  StartLockTimeoutError,
} from "../services/errors.ts";
import {
  databaseUrl,
  redisUrl,
  type ServiceStatus,
  servicesStatus,
  stopServices,
} from "../services/index.ts";

const USAGE = `usage: tsx lib/workshop/cli/services.ts [status|start|stop] [--help]

  status  where PostgreSQL and Redis come from, and whether the local servers run (default)
  start   start the local servers that DATABASE_URL / REDIS_URL do not replace
  stop    stop the local servers (they keep running between commands until you do)`;

const COMMANDS = ["status", "start", "stop"] as const;
type Command = (typeof COMMANDS)[number];

/** The errors this command expects and explains; anything else is a bug and keeps its stack. */
const EXPECTED_ERRORS = [
  PostgresUnavailableError,
  RedisUnavailableError,
  ServiceStopError,
  StartLockTimeoutError,
];

/** A command line we cannot run: one line on what is wrong, then the usage. */
class UsageError extends Error {
  override name = "UsageError";
}

function parseCommand(args: readonly string[]): Command | "help" {
  if (args.includes("--help") || args.includes("-h")) return "help";
  const unknownFlag = args.find((arg) => arg.startsWith("-"));
  if (unknownFlag) throw new UsageError(`unknown option ${unknownFlag}`);
  if (args.length > 1) throw new UsageError(`expected one command, got: ${args.join(" ")}`);
  const [command = "status"] = args;
  if (!isCommand(command)) throw new UsageError(`unknown command ${command}`);
  return command;
}

function isCommand(word: string): word is Command {
  return (COMMANDS as readonly string[]).includes(word);
}

async function printStatus(): Promise<void> {
  const lines = (await servicesStatus()).flatMap(describeService);
  console.log(lines.join("\n"));
}

function describeService({ name, variable, override, local }: ServiceStatus): string[] {
  const localServer = name === "PostgreSQL" ? "embedded PostgreSQL" : "local redis-server";
  const header = override
    ? `${name}: from ${variable}=${override.url} (${override.answers ? "answers" : `does not answer: ${override.problem}`}); the ${localServer} below is not used`
    : `${name}: from the ${localServer} (${variable} is not set)`;
  return [
    header,
    `  running   ${local.running ? "yes" : "no"}`,
    `  url       ${local.url ?? "-"}`,
    `  pid       ${local.pid ?? "-"}`,
    `  data dir  ${local.dataDir}`,
    `  log file  ${local.logFile}`,
    "",
  ];
}

/** Starts both; a failure of one is reported without hiding the other. Resolves `false` if one failed. */
async function start(): Promise<boolean> {
  const onProgress = (message: string) => console.log(message);
  const results = await Promise.allSettled([databaseUrl({ onProgress }), redisUrl({ onProgress })]);
  const failures = results.flatMap((result) =>
    result.status === "rejected" ? [result.reason] : [],
  );
  await printStatus();
  for (const failure of failures) reportError(failure);
  return failures.length === 0;
}

async function stop(): Promise<void> {
  const stopped = await stopServices();
  console.log(`PostgreSQL: ${stopped.postgres ? "stopped" : "was not running"}`);
  console.log(`Redis:      ${stopped.redis ? "stopped" : "was not running"}`);
}

/** Prints an expected error's message, without a stack trace; rethrows anything else. */
function reportError(error: unknown): void {
  if (!isExpectedError(error)) throw error;
  console.error(`${error.message}\n`);
}

function isExpectedError(error: unknown): error is Error {
  return EXPECTED_ERRORS.some((expected) => error instanceof expected);
}

async function main(args: readonly string[]): Promise<number> {
  let command: Command | "help";
  try {
    command = parseCommand(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`services: ${error.message}\n${USAGE}`);
    return 2;
  }
  try {
    switch (command) {
      case "help":
        console.log(USAGE);
        return 0;
      case "status":
        await printStatus();
        return 0;
      case "start":
        return (await start()) ? 0 : 1;
      case "stop":
        await stop();
        return 0;
    }
  } catch (error) {
    reportError(error);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

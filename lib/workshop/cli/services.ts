/**
 * `npm run services -- [status|start|stop] [postgres|redis] [--data-root DIR]`: where PostgreSQL
 * and Redis come from, and the local servers the project runs in the background for every
 * terminal.
 *
 * - `status` (the default) shows, for each service, the override (DATABASE_URL / REDIS_URL) if
 *   one is set, and the local server: running or not, URL, pid, data dir, log file.
 * - `start` starts what the override does not replace (a no-op for what already runs).
 * - `stop` stops the local servers. Servers named by DATABASE_URL / REDIS_URL are never touched.
 *
 * `postgres` or `redis` limits the command to that one; `--data-root` names another folder of
 * local servers than the repository's `.data/` (the tests run private servers that way).
 *
 * @module
 */
import path from "node:path";
import { parseArgs } from "node:util";
import {
  PostgresUnavailableError,
  RedisUnavailableError,
  ServiceStopError,
  StartLockTimeoutError,
} from "../services/errors.ts";
import {
  databaseUrl,
  redisUrl,
  SERVICE_NAMES,
  type ServiceName,
  type ServiceStatus,
  servicesStatus,
  stopServices,
} from "../services/index.ts";
import { isOnPath } from "../services/processes.ts";

const USAGE = `usage: npm run services -- [status|start|stop] [postgres|redis] [--data-root DIR]

  status  where PostgreSQL and Redis come from, and whether the local servers run (default)
  start   start the local servers that DATABASE_URL / REDIS_URL do not replace
  stop    stop the local servers (they keep running between commands until you do)

  postgres, redis    only that one (default: both)
  --data-root DIR    the local servers whose files are in DIR (default: .data/ in the repository)`;

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

interface Invocation {
  command: Command;
  services: readonly ServiceName[];
  dataRoot: string | undefined;
}

function parseInvocation(args: readonly string[]): Invocation | "help" {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(args);
  } catch (error) {
    // parseArgs's own words for an unknown option go on to explain `--`, which is no help here.
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    throw new UsageError(unknown ? `unknown option ${unknown[1]}` : message);
  }
  if (parsed.values.help) return "help";
  const dataRoot = parsed.values["data-root"];
  const [command = "status", service, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra.join(" ")}`);
  if (!isOneOf(COMMANDS, command)) throw new UsageError(`unknown command ${command}`);
  if (service !== undefined && !isOneOf(SERVICE_NAMES, service)) {
    throw new UsageError(`unknown service ${service}: name postgres or redis, or neither for both`);
  }
  return {
    command,
    services: service === undefined ? SERVICE_NAMES : [service],
    // Absolute: the server programs run in a folder of their own.
    dataRoot: dataRoot === undefined ? undefined : path.resolve(dataRoot),
  };
}

function parseFlags(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      "data-root": { type: "string" },
    },
  });
}

function isOneOf<T extends string>(choices: readonly T[], word: string): word is T {
  return (choices as readonly string[]).includes(word);
}

const SERVICE_OF: Record<ServiceStatus["name"], ServiceName> = {
  PostgreSQL: "postgres",
  Redis: "redis",
};

async function printStatus({ services, dataRoot }: Invocation): Promise<void> {
  const [statuses, psqlInstalled] = await Promise.all([
    servicesStatus({ dataRoot }),
    isOnPath("psql"),
  ]);
  const chosen = statuses.filter((status) => services.includes(SERVICE_OF[status.name]));
  console.log(chosen.flatMap((status) => describeService(status, psqlInstalled)).join("\n"));
}

function describeService(status: ServiceStatus, psqlInstalled: boolean): string[] {
  const { name, variable, override, local } = status;
  const localServer = name === "PostgreSQL" ? "embedded PostgreSQL" : "local redis-server";
  const header = override
    ? `${name}: from ${variable}=${override.url} (${override.answers ? "answers" : `does not answer: ${override.problem}`}); the ${localServer} below is not used`
    : `${name}: from the ${localServer} (${variable} is not set)`;
  const psql = name === "PostgreSQL" ? psqlLines(status, psqlInstalled) : [];
  return [
    header,
    ...(override ? psql : []),
    `  running   ${local.running ? "yes" : "no"}`,
    `  url       ${local.url === null ? "- (it has never run)" : local.running ? local.url : `${local.url} (when it runs: it starts again where it was)`}`,
    // The line to paste, so that tests run in this terminal use this server
    // too rather than start their own (see docs/workshop.md).
    ...(!override && local.running && local.url !== null
      ? [`  export    export ${variable}=${local.url}`]
      : []),
    ...(override ? [] : psql),
    `  pid       ${local.pid ?? "-"}`,
    `  data dir  ${local.dataDir}`,
    `  log file  ${local.logFile}`,
    "",
  ];
}

/**
 * A psql command line to paste, for the server the project uses: the embedded server's URL
 * holds its password (a public one, for a server that listens on 127.0.0.1 only), and a
 * server of the user's own is named by the variable, so its password is never printed.
 */
function psqlLines({ override, local }: ServiceStatus, psqlInstalled: boolean): string[] {
  const target = override ? '"$DATABASE_URL"' : local.url;
  if (target === null) return [];
  const lines = [`  psql      psql ${target}`];
  if (!psqlInstalled) {
    lines.push(
      "            (psql, PostgreSQL's client, is not on the PATH: `apt-get install postgresql-client`, or `brew install libpq`)",
    );
  }
  return lines;
}

/**
 * Starts the chosen services; a failure of one is reported without hiding the other. Then
 * prints where they are. Resolves `false` if one failed.
 */
async function start(invocation: Invocation): Promise<boolean> {
  const onProgress = (message: string) => console.log(message);
  const options = { onProgress, dataRoot: invocation.dataRoot };
  const starters = { postgres: databaseUrl, redis: redisUrl };
  const results = await Promise.allSettled(
    invocation.services.map((service) => starters[service](options)),
  );
  const failures = results.flatMap((result) =>
    result.status === "rejected" ? [result.reason] : [],
  );
  await printStatus(invocation);
  for (const failure of failures) reportError(failure);
  return failures.length === 0;
}

async function stop({ services, dataRoot }: Invocation): Promise<void> {
  const stopped = await stopServices(services, { dataRoot });
  const label = { postgres: "PostgreSQL:", redis: "Redis:     " };
  for (const service of services) {
    console.log(`${label[service]} ${stopped[service] ? "stopped" : "was not running"}`);
  }
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
  let invocation: Invocation | "help";
  try {
    invocation = parseInvocation(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`services: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (invocation === "help") {
    console.log(USAGE);
    return 0;
  }
  try {
    switch (invocation.command) {
      case "status":
        await printStatus(invocation);
        return 0;
      case "start":
        return (await start(invocation)) ? 0 : 1;
      case "stop":
        await stop(invocation);
        return 0;
    }
  } catch (error) {
    reportError(error);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

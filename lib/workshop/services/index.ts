/**
 * Where PostgreSQL and Redis come from, for the CLI, the stories and the benchmarks.
 *
 * 1. `DATABASE_URL` / `REDIS_URL`, when set: a server of the user's own, used as is.
 * 2. Otherwise a local server the project runs itself, shared by every terminal: the embedded
 *    PostgreSQL (always possible: it ships in an npm package) and the `redis-server` on the
 *    PATH (possible only if installed).
 * 3. Otherwise {@link RedisUnavailableError} / {@link PostgresUnavailableError}, whose messages
 *    list every way to get the server.
 *
 * The tests resolve their servers differently (Docker first); see `test/global-setup.ts`.
 *
 * @module
 */

import { reasonOf } from "../../reason-of.ts";
import { redactUrl } from "../../redact-url.ts";
import {
  embeddedPostgresStatus,
  ensureEmbeddedPostgres,
  stopEmbeddedPostgres,
} from "./embedded-postgres.ts";
import { PostgresUnavailableError, RedisUnavailableError } from "./errors.ts";
import type { LocalServerOptions, LocalServerStatus } from "./local-server.ts";
import { pingPostgres } from "./postgres-probe.ts";
import { pingRedis } from "./redis-probe.ts";
import { ensureRedisServer, redisServerStatus, stopRedisServer } from "./redis-server.ts";

export { PostgresUnavailableError, RedisUnavailableError } from "./errors.ts";

/** How long a server named by DATABASE_URL / REDIS_URL gets to answer before we give up. */
const OVERRIDE_ANSWER_TIMEOUT_MS = 3000;

export type ServiceOptions = Pick<LocalServerOptions, "onProgress" | "dataRoot">;

/** The two services, as the command line names them. */
export const SERVICE_NAMES = ["postgres", "redis"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * `DATABASE_URL` if set, once it has answered `select 1`; else the shared embedded PostgreSQL
 * (started if needed). Checked for the same reason as REDIS_URL below: a server that does not
 * answer should be one clear sentence naming the URL, not a stack trace from deep in a step —
 * or, for a host that drops packets, a ten-second wait.
 */
export async function databaseUrl(options: ServiceOptions = {}): Promise<string> {
  const override = environmentUrl("DATABASE_URL");
  if (override) {
    await pingPostgres(override, OVERRIDE_ANSWER_TIMEOUT_MS).catch((error: unknown) => {
      throw new PostgresUnavailableError(
        `DATABASE_URL is set to ${redactUrl(override)}, but no PostgreSQL answered there (${reasonOf(error)}).`,
        { cause: error },
      );
    });
    return override;
  }
  return (await ensureEmbeddedPostgres(options)).url;
}

/**
 * `REDIS_URL` if set, once it has answered PING; else the shared local redis-server (started if
 * needed). Checking REDIS_URL here, unlike DATABASE_URL, is deliberate: pg fails at once with
 * ECONNREFUSED and the URL, but ioredis keeps reconnecting in the background, and a command
 * fails only after 20 attempts (over ten seconds) with a MaxRetriesPerRequestError that names
 * neither the URL nor the cause. The user would see a command that hangs, then a riddle.
 */
export async function redisUrl(options: ServiceOptions = {}): Promise<string> {
  const override = environmentUrl("REDIS_URL");
  if (override) {
    await pingRedis(override, OVERRIDE_ANSWER_TIMEOUT_MS).catch((error: unknown) => {
      throw new RedisUnavailableError(
        `REDIS_URL is set to ${redactUrl(override)}, but no Redis answered PING there (${reasonOf(error)}).`,
        { cause: error },
      );
    });
    return override;
  }
  return (await ensureRedisServer(options)).url;
}

/** A server named by an environment variable, and whether it answered just now. */
export interface OverrideStatus {
  /** The URL with its password replaced by `***`. */
  url: string;
  answers: boolean;
  /** Why it did not answer, when it did not. */
  problem: string | null;
}

export interface ServiceStatus {
  name: "PostgreSQL" | "Redis";
  /** The environment variable that names a server of the user's own. */
  variable: "DATABASE_URL" | "REDIS_URL";
  /** Set when that variable is set: then the local server is not used. */
  override: OverrideStatus | null;
  local: LocalServerStatus;
}

/** What each service resolves to right now. Starts nothing. */
export async function servicesStatus(
  options: Pick<LocalServerOptions, "dataRoot"> = {},
): Promise<ServiceStatus[]> {
  const [postgresOverride, redisOverride, postgresLocal, redisLocal] = await Promise.all([
    overrideStatus("DATABASE_URL", pingPostgres),
    overrideStatus("REDIS_URL", pingRedis),
    embeddedPostgresStatus(options),
    redisServerStatus(options),
  ]);
  return [
    {
      name: "PostgreSQL",
      variable: "DATABASE_URL",
      override: postgresOverride,
      local: postgresLocal,
    },
    { name: "Redis", variable: "REDIS_URL", override: redisOverride, local: redisLocal },
  ];
}

/**
 * Stops the local servers named in `services` (never a server named by an environment
 * variable). Resolves, for each, whether it was running.
 */
export async function stopServices(
  services: readonly ServiceName[],
  options: Pick<LocalServerOptions, "dataRoot"> = {},
): Promise<Partial<Record<ServiceName, boolean>>> {
  const stop = { postgres: stopEmbeddedPostgres, redis: stopRedisServer };
  const stopped = await Promise.all(services.map((service) => stop[service](options)));
  return Object.fromEntries(services.map((service, i) => [service, stopped[i]]));
}

async function overrideStatus(
  variable: ServiceStatus["variable"],
  ping: (url: string, timeoutMs: number) => Promise<void>,
): Promise<OverrideStatus | null> {
  const url = environmentUrl(variable);
  if (!url) return null;
  try {
    await ping(url, OVERRIDE_ANSWER_TIMEOUT_MS);
    return { url: redactUrl(url), answers: true, problem: null };
  } catch (error) {
    return { url: redactUrl(url), answers: false, problem: reasonOf(error) };
  }
}

/** The variable's value; an empty one (`DATABASE_URL= npm run …`) counts as not set. */
function environmentUrl(variable: string): string | undefined {
  return process.env[variable] || undefined;
}

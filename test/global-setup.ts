/**
 * The vitest global setup: finds the PostgreSQL and Redis the tests run against, once per run,
 * and hands their URLs to the test files (`testDatabaseUrl()` / `testRedisUrl()` in
 * `test/services.ts`). Real servers only, never mocks; in this order:
 *
 * 1. `DATABASE_URL` / `REDIS_URL`, when set: the user's own servers.
 * 2. Docker, through testcontainers, when a container runtime answers: throwaway servers, gone
 *    after the run, whatever the tests left in them.
 * 3. The project's local servers (`lib/workshop/services/`): the embedded PostgreSQL and the
 *    `redis-server` on the PATH. They are shared with the CLI, so the teardown stops only
 *    those this setup started.
 *
 * Each choice is made per service: REDIS_URL set and DATABASE_URL not gives your Redis and a
 * PostgreSQL from Docker (or the embedded one).
 *
 * PostgreSQL is always there (the embedded one ships with `npm install`); Redis may not be. On a
 * machine with only Node.js — no REDIS_URL, no Docker, no `redis-server` — the run goes on
 * without it: every test that asks for Redis is skipped (see `test/services.ts`), and the run
 * ends by naming them and the three ways to get Redis (`test/support/redis-report.ts`). Under
 * `CI=true` or `REQUIRE_REDIS=1` those tests fail instead: CI must run them all.
 *
 * @module
 */
import type { TestProject } from "vitest/node";
import { reasonOf } from "../lib/reason-of.ts";
import { redactUrl } from "../lib/redact-url.ts";
import {
  ensureEmbeddedPostgres,
  stopEmbeddedPostgres,
} from "../lib/workshop/services/embedded-postgres.ts";
import {
  PostgresUnavailableError,
  RedisServerNotInstalledError,
  RedisUnavailableError,
} from "../lib/workshop/services/errors.ts";
import { pingPostgres } from "../lib/workshop/services/postgres-probe.ts";
import { isOnPath } from "../lib/workshop/services/processes.ts";
import { pingRedis } from "../lib/workshop/services/redis-probe.ts";
import { ensureRedisServer, stopRedisServer } from "../lib/workshop/services/redis-server.ts";
import { withTimeout } from "../lib/workshop/services/with-timeout.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    /** `null`: this run has no Redis. */
    redisUrl: string | null;
    /** Whether a test that needs a missing Redis fails (CI) rather than being skipped. */
    redisRequired: boolean;
    /** Whether `redis-server` is on the PATH, for tests that start a private one. */
    redisServerProgram: boolean;
  }
}

/** A server for this test run: where it is, what to call it, and how to clean up after it. */
interface TestServer<Url = string> {
  /** For Redis, `null` when this run has none. */
  url: Url;
  /** For the one line that says which servers the tests use. */
  description: string;
  stop: () => Promise<void>;
}

/** Images for the containers, the same as in `docker-compose.yml`. */
const POSTGRES_IMAGE = "postgres:18";
const REDIS_IMAGE = "redis:7";

/** How long a server named by DATABASE_URL / REDIS_URL gets to answer. */
const OVERRIDE_ANSWER_TIMEOUT_MS = 5000;

/**
 * How long we let Docker take to say whether it is there. Without a runtime, testcontainers
 * fails in milliseconds; a Docker daemon that hangs must not hang the tests with it.
 */
const CONTAINER_RUNTIME_TIMEOUT_MS = 10_000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const databaseOverride = process.env.DATABASE_URL || undefined;
  const redisOverride = process.env.REDIS_URL || undefined;
  const useDocker =
    (databaseOverride === undefined || redisOverride === undefined) &&
    (await containerRuntimeAnswers());

  // Both at once (a container takes seconds); if one fails, the other is stopped.
  const { postgres, redis } = await startBoth(
    databaseOverride
      ? userServer("DATABASE_URL", databaseOverride)
      : useDocker
        ? postgresContainer()
        : embeddedPostgres(),
    redisOverride
      ? userServer("REDIS_URL", redisOverride)
      : useDocker
        ? redisContainer()
        : localRedisServer(),
  );

  const redisRequired = isRequired(process.env.CI) || isRequired(process.env.REQUIRE_REDIS);
  project.provide("databaseUrl", postgres.url);
  project.provide("redisUrl", redis.url);
  project.provide("redisRequired", redisRequired);
  project.provide("redisServerProgram", await isOnPath("redis-server"));
  console.log(`Tests use PostgreSQL: ${postgres.description}; Redis: ${redis.description}.`);
  if (redis.url === null) {
    console.log(
      redisRequired
        ? "The tests that need Redis will fail: CI=true or REQUIRE_REDIS=1 says every test must run."
        : "The tests that need Redis will be skipped, and named at the end.",
    );
  }

  return async () => {
    await Promise.all([postgres.stop(), redis.stop()]);
  };
}

/**
 * A server named by DATABASE_URL / REDIS_URL, checked once here: if it does not answer, one
 * clear error now beats every test failing on its own with a connection error.
 */
async function userServer(
  variable: "DATABASE_URL" | "REDIS_URL",
  url: string,
): Promise<TestServer> {
  const ping = variable === "DATABASE_URL" ? pingPostgres : pingRedis;
  await ping(url, OVERRIDE_ANSWER_TIMEOUT_MS).catch((error: unknown) => {
    const reason = `${variable} is set to ${redactUrl(url)}, but no server answered there (${reasonOf(error)}).`;
    throw variable === "DATABASE_URL"
      ? new PostgresUnavailableError(reason, { cause: error })
      : new RedisUnavailableError(reason, { cause: error });
  });
  return { url, description: `${variable} (${redactUrl(url)})`, stop: async () => {} };
}

/**
 * Whether Docker (or Podman, Colima…) answers. testcontainers is imported only here, and only
 * when needed: it costs ~0.3 s to import, and a run with both URLs set never needs it.
 */
async function containerRuntimeAnswers(): Promise<boolean> {
  const { getContainerRuntimeClient } = await import("testcontainers");
  // testcontainers' words for "no Docker here". A runtime that does not answer in time counts
  // as none too; any other error (Docker is there but broken) is for the user to see.
  const noRuntime = "Could not find a working container runtime strategy";
  try {
    await withTimeout(
      getContainerRuntimeClient(),
      CONTAINER_RUNTIME_TIMEOUT_MS,
      () =>
        new Error(`${noRuntime}: none answered within ${CONTAINER_RUNTIME_TIMEOUT_MS / 1000} s`),
    );
    return true;
  } catch (error) {
    if (error instanceof Error && error.message.includes(noRuntime)) return false;
    throw error;
  }
}

async function postgresContainer(): Promise<TestServer> {
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
  const container = await new PostgreSqlContainer(POSTGRES_IMAGE)
    // As many connections as the embedded server allows: test files run in parallel.
    .withCommand(["postgres", "-c", "max_connections=300"])
    .start();
  return {
    url: container.getConnectionUri(),
    description: `a Docker container (${POSTGRES_IMAGE})`,
    stop: async () => {
      await container.stop();
    },
  };
}

async function redisContainer(): Promise<TestServer> {
  const { RedisContainer } = await import("@testcontainers/redis");
  const container = await new RedisContainer(REDIS_IMAGE).start();
  return {
    url: container.getConnectionUrl(),
    description: `a Docker container (${REDIS_IMAGE})`,
    stop: async () => {
      await container.stop();
    },
  };
}

const onProgress = (message: string) => console.log(message);

async function embeddedPostgres(): Promise<TestServer> {
  const { url, startedNow } = await ensureEmbeddedPostgres({ onProgress });
  return {
    url,
    description: `the embedded PostgreSQL at ${url}${startedNow ? "" : ", already running"}`,
    stop: async () => {
      if (startedNow) await stopEmbeddedPostgres();
    },
  };
}

/** The local redis-server; none (not an error) when there is no `redis-server` to start. */
async function localRedisServer(): Promise<TestServer<string | null>> {
  let started: Awaited<ReturnType<typeof ensureRedisServer>>;
  try {
    started = await ensureRedisServer({ onProgress });
  } catch (error) {
    if (!(error instanceof RedisServerNotInstalledError)) throw error;
    return {
      url: null,
      description: "none (no REDIS_URL, no Docker, no redis-server on the PATH)",
      stop: async () => {},
    };
  }
  const { url, startedNow } = started;
  return {
    url,
    description: `the local redis-server at ${url}${startedNow ? "" : ", already running"}`,
    stop: async () => {
      if (startedNow) await stopRedisServer();
    },
  };
}

/** `CI=true`, `REQUIRE_REDIS=1` and the like. */
function isRequired(value: string | undefined): boolean {
  return value !== undefined && ["1", "true", "yes"].includes(value.toLowerCase());
}

/** Waits for both starts; when one fails, stops the one that started, then throws. */
async function startBoth(
  postgresStart: Promise<TestServer>,
  redisStart: Promise<TestServer<string | null>>,
): Promise<{ postgres: TestServer; redis: TestServer<string | null> }> {
  const [postgres, redis] = await Promise.allSettled([postgresStart, redisStart]);
  if (postgres.status === "fulfilled" && redis.status === "fulfilled") {
    return { postgres: postgres.value, redis: redis.value };
  }
  for (const result of [postgres, redis]) {
    if (result.status === "fulfilled") await result.value.stop();
  }
  throw postgres.status === "rejected" ? postgres.reason : (redis as PromiseRejectedResult).reason;
}

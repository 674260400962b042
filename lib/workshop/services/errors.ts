/**
 * Errors about the servers the project runs on: PostgreSQL and Redis.
 * Each message says what went wrong, then every way to fix it, so a reader who meets one in
 * the terminal does not have to look anything up.
 *
 * @module
 */

const HOW_TO_GET_POSTGRES = [
  "To use a PostgreSQL server of your own instead:",
  "  - set DATABASE_URL to it, e.g. DATABASE_URL=postgres://user:password@host:5432/database, or",
  "  - with Docker: `docker compose up -d postgres`, then",
  "    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres",
].join("\n");

/** Every way to get Redis, for the error messages here and the test run's report. */
export const HOW_TO_GET_REDIS = [
  "Three ways to get Redis:",
  "  - set REDIS_URL to a Redis server you run, e.g. REDIS_URL=redis://127.0.0.1:6379;",
  "  - install `redis-server` so it is on the PATH (Debian/Ubuntu: `apt-get install redis-server`,",
  "    macOS: `brew install redis`); the project then starts its own in .data/redis;",
  "  - with Docker: `docker compose up -d redis`, then REDIS_URL=redis://127.0.0.1:6379",
].join("\n");

/**
 * The first sentences of the error when a local server cannot start where it ran before. Not
 * an error class of its own: it is one reason among others why PostgreSQL or Redis is
 * unavailable, and each of those errors adds the ways to get that server.
 */
export function rememberedPortTaken(server: string, port: number, portFile: string): string {
  return `The ${server} cannot start on port ${port}, where it ran before and where running workers and terminals look for it: another program listens there now. Stop that program and try again; or, to move the server, delete ${portFile}: it then starts on a free port, and what runs must be restarted to find it.`;
}

/** The project could not get a PostgreSQL server: the embedded one cannot run here, or failed. */
export class PostgresUnavailableError extends Error {
  override name = "PostgresUnavailableError";
  constructor(reason: string, options?: ErrorOptions) {
    super(`${reason}\n${HOW_TO_GET_POSTGRES}`, options);
  }
}

/** The project could not get a Redis server: REDIS_URL does not answer, or none can be started. */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
  constructor(reason: string, options?: ErrorOptions) {
    super(`${reason}\n${HOW_TO_GET_REDIS}`, options);
  }
}

/**
 * No Redis server can be started here because there is no `redis-server` program: the one
 * reason a Redis can be missing that is not a failure, on a machine with only Node.js.
 */
export class RedisServerNotInstalledError extends RedisUnavailableError {
  override name = "RedisServerNotInstalledError";
  constructor() {
    super("There is no `redis-server` on the PATH to run a local Redis with.");
  }
}

/**
 * Another process has been starting (or stopping) a local server for longer than it should.
 * Usually it is stuck; its pid is in the lock file.
 */
export class StartLockTimeoutError extends Error {
  override name = "StartLockTimeoutError";
  constructor(
    readonly lockFile: string,
    readonly holderPid: number | null,
    waitedSeconds: number,
  ) {
    const holder = holderPid === null ? "Another process" : `Another process (pid ${holderPid})`;
    super(
      `${holder} has held ${lockFile} for over ${waitedSeconds} s while starting or stopping a local server. If it is stuck, stop it, or delete that file and try again.`,
    );
  }
}

/** A local server did not stop when asked. It may still be running. */
export class ServiceStopError extends Error {
  override name = "ServiceStopError";
  constructor(service: string, reason: string, logFile: string) {
    super(
      `${service} did not stop: ${reason}. It may still be running; see ${logFile}, and stop its process yourself if you must.`,
    );
  }
}

/**
 * A Redis server for development: the `redis-server` on the PATH, started on first use and left
 * running after the command that started it exits, so every terminal shares it. The same
 * design as `embedded-postgres.ts`, for the same reason: a server that lived only as long as
 * one command would not be shared. Here the server detaches itself (`--daemonize yes`).
 *
 * Nothing on npm ships a Redis binary, so unlike PostgreSQL this one has to be installed (or
 * REDIS_URL set); without it we throw {@link RedisUnavailableError}, which says how.
 *
 * Files, in `<repo>/.data/redis/`:
 * - `redis-server.pid`: written by Redis once it listens, removed when it stops;
 * - `port`: the port it started on the first time, and starts on every time after that, so
 *   that a URL once printed stays true. (Redis has no file that records its port, unlike
 *   PostgreSQL's `postmaster.pid`: this one also says where the running server is.)
 * - `redis-server.log`, and `start.lock` held while one process starts or stops it.
 *
 * Nothing is persisted (`--save ""`, `--appendonly no`): the data is a development queue,
 * and a stop is a clean slate. A real deployment of a Redis-backed queue would turn on the AOF,
 * or accept losing what was enqueued since the last snapshot.
 *
 * @module
 */
import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { reasonOf } from "../../reason-of.ts";
import {
  RedisServerNotInstalledError,
  RedisUnavailableError,
  rememberedPortTaken,
  ServiceStopError,
} from "./errors.ts";
import {
  defaultDataRoot,
  type EnsuredLocalServer,
  endOfLog,
  type LocalServerOptions,
  type LocalServerStatus,
  localServerStatus,
} from "./local-server.ts";
import { portToStartOn, rememberPort } from "./ports.ts";
import {
  describeFailure,
  isErrnoException,
  isProcessAlive,
  runProgram,
  succeeded,
} from "./processes.ts";
import { askRedis, pingRedis } from "./redis-probe.ts";
import { withStartLock } from "./start-lock.ts";

/** The port we try first. Not 6379, so that a Redis the user already runs is left alone. */
export const DEFAULT_REDIS_PORT = 63799;

const LOCK_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 1000;

interface RedisFiles {
  root: string;
  pidFile: string;
  portFile: string;
  logFile: string;
  lockFile: string;
}

function redisFiles(dataRoot = defaultDataRoot): RedisFiles {
  const root = path.join(dataRoot, "redis");
  return {
    root,
    pidFile: path.join(root, "redis-server.pid"),
    portFile: path.join(root, "port"),
    logFile: path.join(root, "redis-server.log"),
    lockFile: path.join(root, "start.lock"),
  };
}

export function localRedisUrl(port: number): string {
  return `redis://127.0.0.1:${port}`;
}

/** {@link LocalServerOptions}, and the port of a first start. */
export interface RedisServerOptions extends LocalServerOptions {
  /**
   * The port for the server's first start instead of {@link DEFAULT_REDIS_PORT} (if it is
   * taken, a free one). Every later start uses the port of the first, whatever this says.
   */
  port?: number;
}

/**
 * Returns the URL of the shared redis-server, starting it first if it is not running. Safe to
 * call from many processes at once. Throws {@link RedisUnavailableError} if it has to start one
 * and there is no `redis-server` on the PATH.
 */
export async function ensureRedisServer(
  options: RedisServerOptions = {},
): Promise<EnsuredLocalServer> {
  const files = redisFiles(options.dataRoot);
  const progress = options.onProgress ?? (() => {});

  const running = await readRunningServer(files);
  if (running) return { url: localRedisUrl(running.port), startedNow: false };

  await fs.mkdir(files.root, { recursive: true });
  const lockOptions = {
    timeoutMs: LOCK_TIMEOUT_MS,
    onWaiting: (holderPid: number | null) =>
      progress(`waiting for another process (pid ${holderPid ?? "?"}) that is starting Redis…`),
  };
  return withStartLock(files.lockFile, lockOptions, async () => {
    const startedMeanwhile = await readRunningServer(files);
    if (startedMeanwhile) return { url: localRedisUrl(startedMeanwhile.port), startedNow: false };
    const port = await startServer(files, progress, options.port);
    return { url: localRedisUrl(port), startedNow: true };
  });
}

export async function redisServerStatus(
  options: Pick<LocalServerOptions, "dataRoot"> = {},
): Promise<LocalServerStatus> {
  const files = redisFiles(options.dataRoot);
  return localServerStatus(
    await readRunningServer(files),
    { ...files, dataDir: files.root },
    localRedisUrl,
  );
}

/**
 * Stops the shared redis-server with SIGTERM (Redis exits cleanly on it; with nothing to save,
 * at once). Resolves `true` if it was running.
 */
export async function stopRedisServer(
  options: Pick<LocalServerOptions, "dataRoot"> = {},
): Promise<boolean> {
  const files = redisFiles(options.dataRoot);
  if ((await readRunningServer(files)) === null) return false;
  return withStartLock(files.lockFile, { timeoutMs: LOCK_TIMEOUT_MS }, async () => {
    const running = await readRunningServer(files);
    if (running === null) return false;
    await confirmItIsOurRedis(running, files);
    process.kill(running.pid, "SIGTERM");
    await waitUntilStopped(running, files);
    return true;
  });
}

/**
 * Redis removes its pid file as it exits; we wait for that rather than for the pid to vanish.
 * In a container whose first process does not reap orphans, an exited daemon stays a zombie,
 * and a zombie's pid still answers "alive" to signal 0.
 */
async function waitUntilStopped(running: RunningServer, files: RedisFiles): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while ((await readRunningServer(files)) !== null) {
    if (Date.now() > deadline) {
      const reason = `pid ${running.pid} was still running ${STOP_TIMEOUT_MS / 1000} s after SIGTERM`;
      throw new ServiceStopError("redis-server", reason, files.logFile);
    }
    await sleep(50);
  }
}

// --- Finding the running server -------------------------------------------------------------

interface RunningServer {
  pid: number;
  port: number;
}

/** The server named by the pid file and port file, if that pid is alive. */
async function readRunningServer(files: RedisFiles): Promise<RunningServer | null> {
  const [pidText, portText] = await Promise.all([
    readIfPresent(files.pidFile),
    readIfPresent(files.portFile),
  ]);
  const pid = Number.parseInt(pidText ?? "", 10);
  const port = Number.parseInt(portText ?? "", 10);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isProcessAlive(pid)) return null;
  return { pid, port };
}

/**
 * Before sending a signal to the pid in the pid file, ask the Redis on our port for its pid.
 * After a reboot, a pid file left behind can name an unrelated process that happens to have
 * that pid now; a signal to it would be a nasty surprise.
 */
async function confirmItIsOurRedis(running: RunningServer, files: RedisFiles): Promise<void> {
  const info = await askRedis(localRedisUrl(running.port), PROBE_TIMEOUT_MS, (client) =>
    client.info("server"),
  ).catch(() => "");
  const processId = /^process_id:(\d+)/m.exec(info)?.[1];
  if (processId !== String(running.pid)) {
    const reason = `the pid file names pid ${running.pid}, but no redis-server with that pid answers on port ${running.port}; remove ${files.pidFile} if no redis-server of ours runs`;
    throw new ServiceStopError("redis-server", reason, files.logFile);
  }
}

// --- Starting it ----------------------------------------------------------------------------

async function startServer(
  files: RedisFiles,
  progress: (message: string) => void,
  firstPort = DEFAULT_REDIS_PORT,
): Promise<number> {
  await checkRedisServerInstalled();
  const chosen = await portToStartOn(files.portFile, firstPort);
  const { port } = chosen;
  if (chosen.kind === "remembered-but-taken") {
    throw new RedisUnavailableError(
      rememberedPortTaken("local redis-server", port, files.portFile),
    );
  }
  const busyNote =
    chosen.kind === "first" && chosen.preferredWasBusy
      ? ` (${firstPort} is taken by another program)`
      : "";
  progress(`starting redis-server on port ${port}${busyNote}…`);
  // Before the start: the pid file Redis writes means nothing without it.
  await rememberPort(files.portFile, port);
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--daemonize",
    "yes",
    "--dir",
    files.root,
    "--pidfile",
    files.pidFile,
    "--logfile",
    files.logFile,
    "--save",
    "",
    "--appendonly",
    "no",
  ];
  const result = await runProgram("redis-server", args, {
    cwd: files.root,
    timeoutMs: START_TIMEOUT_MS,
  });
  if (!succeeded(result)) {
    throw new RedisUnavailableError(
      `redis-server did not start: ${describeFailure("redis-server", result)}\nThe end of its log (${files.logFile}):\n${await endOfLog(files.logFile)}`,
    );
  }
  // With --daemonize, redis-server forks and the first process exits at once: wait until the
  // daemon answers.
  await waitUntilAnswering(port, files);
  return port;
}

/** Throws {@link RedisServerNotInstalledError} if there is no `redis-server` on the PATH. */
async function checkRedisServerInstalled(): Promise<void> {
  try {
    await runProgram("redis-server", ["--version"], { timeoutMs: 5000 });
  } catch (error) {
    if (isErrnoException(error) && error.code === "ENOENT") {
      throw new RedisServerNotInstalledError();
    }
    throw error;
  }
}

async function waitUntilAnswering(port: number, files: RedisFiles): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      await pingRedis(localRedisUrl(port), PROBE_TIMEOUT_MS);
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new RedisUnavailableError(
          `redis-server was started on port ${port} but did not answer PING within ${START_TIMEOUT_MS / 1000} s (${reasonOf(error)}).\nThe end of its log (${files.logFile}):\n${await endOfLog(files.logFile)}`,
        );
      }
      await sleep(50);
    }
  }
}

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if (isErrnoException(error) && error.code === "ENOENT") return null;
    throw error;
  }
}

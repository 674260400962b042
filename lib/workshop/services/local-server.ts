/**
 * What the local servers (embedded PostgreSQL, redis-server) have in common: where they keep
 * their files, and the shape of what their modules return.
 *
 * @module
 */
import fs from "node:fs/promises";
import { DATA_DIR } from "../../paths.ts";
import { readRememberedPort } from "./ports.ts";

/**
 * `<repo>/.data/`, ignored by git: one folder per local server inside it. Found from the
 * source's place in the repository, not `process.cwd()`: a worker started in
 * `steps/05-claims/` and an `enqueue` started at the root must find the same server.
 */
export const defaultDataRoot = DATA_DIR;

export interface LocalServerOptions {
  /** Called with one line for the user when something slow happens (first run, start). */
  onProgress?: (message: string) => void;
  /**
   * Where the server keeps its files; {@link defaultDataRoot} unless given. The tests use a
   * temporary folder to run a second, private server without touching the shared one.
   */
  dataRoot?: string;
}

/** The answer of `ensure…()`: where the server is, and whether this call had to start it. */
export interface EnsuredLocalServer {
  url: string;
  /** `true` if this call started the server; the caller may then want to stop it when done. */
  startedNow: boolean;
}

export interface LocalServerStatus {
  running: boolean;
  /**
   * How to connect: where it runs, or, while it is stopped, where it starts again (the port it
   * had). `null` before its first start.
   */
  url: string | null;
  pid: number | null;
  dataDir: string;
  logFile: string;
}

/**
 * What `npm run services` reports of a local server: where it runs, or — stopped — where it
 * will start again, the port remembered in its data folder.
 */
export async function localServerStatus(
  running: { readonly pid: number; readonly port: number } | null,
  files: { readonly portFile: string; readonly dataDir: string; readonly logFile: string },
  urlOf: (port: number) => string,
): Promise<LocalServerStatus> {
  const port = running?.port ?? (await readRememberedPort(files.portFile));
  return {
    running: running !== null,
    url: port === null ? null : urlOf(port),
    pid: running?.pid ?? null,
    dataDir: files.dataDir,
    logFile: files.logFile,
  };
}

/** The last lines of a server's log, to show in an error when the server did not start. */
export async function endOfLog(logFile: string, lineCount = 15): Promise<string> {
  const content = await fs.readFile(logFile, "utf8").catch(() => "(no log was written)");
  return content.trimEnd().split("\n").slice(-lineCount).join("\n");
}

/**
 * Running the server programs (initdb, pg_ctl, redis-server) and asking whether a process is
 * still alive. Every wait here has a timeout: a tool that hangs must not hang the CLI with it.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";

/** Another system user to run a program as (PostgreSQL refuses to run as root). */
export interface RunAs {
  uid: number;
  gid: number;
}

export interface ProgramResult {
  /** `null` when the program was killed by a signal, e.g. after {@link timedOut}. */
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr, interleaved as they came. */
  output: string;
}

export interface RunProgramOptions {
  timeoutMs: number;
  runAs?: RunAs;
  cwd?: string;
}

/**
 * Runs `file` with `args` (no shell, so no quoting problems) and resolves when it exits, whatever
 * its exit code; rejects only if it could not be started at all (not found, not executable).
 * After `timeoutMs` the program is killed with SIGKILL and the result says `timedOut`.
 */
export function runProgram(
  file: string,
  args: readonly string[],
  options: RunProgramOptions,
): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      uid: options.runAs?.uid,
      gid: options.runAs?.gid,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let timedOut = false;
    const collect = (chunk: Buffer) => {
      output += chunk.toString("utf8");
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, timedOut, output });
    });
  });
}

/** Exited with code 0, in time. */
export function succeeded(result: ProgramResult): boolean {
  return result.exitCode === 0 && !result.timedOut;
}

/** One line on how a program failed, for error messages: exit code or timeout, then its output. */
export function describeFailure(programName: string, result: ProgramResult): string {
  const how = result.timedOut
    ? `${programName} did not finish in time and was killed`
    : `${programName} exited with code ${result.exitCode}`;
  const output = result.output.trim();
  return output === "" ? how : `${how}:\n${output}`;
}

/**
 * Whether a process with this pid exists. Signal 0 checks without sending anything. EPERM means
 * it exists but belongs to another user (a PostgreSQL running as `postgres`, seen by a
 * non-root user): alive.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrnoException(error) && error.code === "EPERM";
  }
}

export function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && "code" in error;
}

/** Whether `program` is an executable file in one of the PATH's folders (as a shell would find it). */
export async function isOnPath(program: string): Promise<boolean> {
  const folders = (process.env.PATH ?? "").split(path.delimiter).filter((folder) => folder !== "");
  for (const folder of folders) {
    try {
      await fs.access(path.join(folder, program), fsConstants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/**
 * The workshop's command line as a user runs it: a real process, against the
 * servers this test run uses.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../../lib/paths.ts";
import { testDatabaseUrl, testRedisUrlIfAny } from "../services.ts";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `npm run step -- …args` (without npm's own output) and returns its exit code and output.
 * A command on step 04 needs Redis: its test asks for it first (`openForTest`, `testRedisUrl`).
 */
export function runStepCommand(...args: string[]): Promise<CommandResult> {
  return runScript("lib/workshop/cli/main.ts", args, {
    ...process.env,
    DATABASE_URL: testDatabaseUrl(),
    REDIS_URL: testRedisUrlIfAny(),
  });
}

/** Runs `npm run practice -- …args` (without npm's own output). */
export function runPracticeCommand(...args: string[]): Promise<CommandResult> {
  return runScript("lib/workshop/cli/practice.ts", args, {
    ...process.env,
    DATABASE_URL: testDatabaseUrl(),
    REDIS_URL: testRedisUrlIfAny(),
  });
}

/**
 * Runs `npm run services -- …args` on the local servers in `dataRoot` (`--data-root`), with
 * DATABASE_URL and REDIS_URL unset: those would take the place of the local servers.
 */
export function runServicesCommand(dataRoot: string, ...args: string[]): Promise<CommandResult> {
  const { DATABASE_URL: _database, REDIS_URL: _redis, ...env } = process.env;
  return runScript("lib/workshop/cli/services.ts", [...args, "--data-root", dataRoot], env);
}

async function runScript(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, script), ...args],
      { cwd: REPO_ROOT, env },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as CommandResult;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

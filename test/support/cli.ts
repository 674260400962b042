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
import { testDatabaseUrl, testRedisUrl } from "../services.ts";

/** Runs `npm run step -- …args` (without npm's own output) and returns its exit code and output. */
export async function runStepCommand(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "lib/workshop/cli/main.ts"), ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, DATABASE_URL: testDatabaseUrl(), REDIS_URL: testRedisUrl() },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

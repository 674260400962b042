/**
 * A worker in a real child process — `npm run step NN -- worker` — so tests
 * can kill it with SIGKILL at a moment they choose, as a crash would.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../../lib/paths.ts";
import type { StepInstance } from "../../lib/step.ts";
import { testDatabaseUrl, testRedisUrl } from "../services.ts";

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Resolves with the first line of output (stdout or stderr) that matches, or rejects after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited, with how. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it printed so far, for failure messages. */
  output(): string;
}

/**
 * Starts `npm run step NN -- worker --namespace <instance's namespace> …args`
 * against the servers this test run uses. The CLI prints `▶ job <id>` when a
 * job starts, which is the moment crash tests wait for.
 */
export function spawnWorker(instance: StepInstance, args: readonly string[] = []): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(REPO_ROOT, "lib/cli/main.ts"),
      instance.step.id,
      "worker",
      "--namespace",
      instance.namespace,
      ...args,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, DATABASE_URL: testDatabaseUrl(), REDIS_URL: testRedisUrl() },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  let partialLine = "";
  const lineListeners = new Set<(line: string) => void>();
  const onData = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    output += text;
    const lines = (partialLine + text).split("\n");
    partialLine = lines.pop() ?? "";
    for (const line of lines) for (const listener of lineListeners) listener(line);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    exited,
    output: () => output,
    waitForLine(pattern, timeoutMs = 20_000) {
      const seen = output.split("\n").find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          lineListeners.delete(listener);
          reject(
            new Error(`No line matching ${pattern} within ${timeoutMs} ms. Output:\n${output}`),
          );
        }, timeoutMs);
        const listener = (line: string) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          lineListeners.delete(listener);
          resolve(line);
        };
        lineListeners.add(listener);
      });
    },
  };
}

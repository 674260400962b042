/**
 * A worker in a real child process — `npm run step NN -- worker` — so a story, a benchmark or
 * a test can kill it with SIGKILL at a moment it chooses, as a crash would.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.ts";

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Resolves with the first line of output (stdout or stderr) that matches, or rejects after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Calls `listener` with every complete line from now on; returns the function that stops it. */
  onLine(listener: (line: string) => void): () => void;
  /** Resolves when the process has exited and all it printed has been read, with how it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it printed so far, for failure messages. */
  output(): string;
}

export interface WorkerProcessOptions {
  /** The step's id, e.g. `"04"`. */
  readonly stepId: string;
  readonly namespace: string;
  /** More arguments for the worker command, e.g. `["--concurrency", "10"]`. */
  readonly args?: readonly string[];
  /** The child's environment; defaults to this process's (so it finds the same servers). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Starts it in a process group of its own, so a Ctrl-C in the terminal
   * reaches only this process, not the worker too: a supervisor passes the
   * signal on itself (a worker told twice would exit at once, mid-job).
   */
  readonly detached?: boolean;
  /**
   * A program to start instead of the workshop's CLI (a path from the
   * repository root), with the CLI's arguments (`NN worker --namespace NAME
   * …args`): a worker with jobs of its own, which the CLI's cannot have
   * (step 14's `demo/batch-worker.ts`, the tests' `recording-worker.ts`).
   */
  readonly script?: string;
}

/**
 * Starts `npm run step NN -- worker --namespace NAME …args` (through `node --import tsx`, without
 * npm in between, so the pid is the worker's own and SIGKILL reaches it). The CLI prints
 * `▶ job <id> <Name>` when a job starts and `✓ job <id>` when it finishes.
 */
export function spawnWorkerProcess(options: WorkerProcessOptions): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(REPO_ROOT, options.script ?? "lib/workshop/cli/main.ts"),
      options.stepId,
      "worker",
      "--namespace",
      options.namespace,
      ...(options.args ?? []),
    ],
    {
      cwd: REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: options.detached ?? false,
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
    // 'close', not 'exit': 'exit' can come before the last of its output has been read.
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    exited,
    output: () => output,
    onLine(listener) {
      lineListeners.add(listener);
      return () => lineListeners.delete(listener);
    },
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

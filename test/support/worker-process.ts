/**
 * A worker in a real child process — `npm run step NN -- worker` — so tests
 * can kill it with SIGKILL at a moment they choose, as a crash would.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { onTestFinished } from "vitest";
import type { StepInstance } from "../../lib/step.ts";
import { spawnWorkerProcess, type WorkerProcess } from "../../lib/worker-process.ts";
import { testDatabaseUrl, testRedisUrl, testRedisUrlIfAny } from "../services.ts";

export type { WorkerProcess } from "../../lib/worker-process.ts";

/** How long a worker left running at the end of a test gets to stop before it is killed. */
const STOP_GRACE_MS = 15_000;

/**
 * Starts `npm run step NN -- worker --namespace <instance's namespace> …args`
 * against the servers this test run uses. The CLI prints `▶ job <id>` when a
 * job starts, which is the moment crash tests wait for. `script` starts
 * another program with the same arguments instead of the CLI (see
 * `WorkerProcessOptions.script`).
 *
 * A worker still running when the test ends (it failed before stopping it) is
 * stopped then: SIGTERM, which a supervisor passes on to its workers, and
 * SIGKILL if it has not exited within {@link STOP_GRACE_MS}. Nothing a test
 * starts may outlive the run — not even the workers of a supervisor the test
 * killed, which live on as orphans if the step under test does not stop them
 * (a failing orphaned-workers test, or practice mode grading a base's code).
 * So at the end, every process still running a worker in this test's
 * namespace gets SIGKILL.
 */
export function spawnWorker(
  instance: StepInstance,
  args: readonly string[] = [],
  script?: string,
): WorkerProcess {
  const worker = spawnWorkerProcess({
    stepId: instance.step.id,
    namespace: instance.namespace,
    args,
    script,
    env: {
      ...process.env,
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL: instance.step.backend === "redis" ? testRedisUrl() : testRedisUrlIfAny(),
    },
  });
  onTestFinished(async () => {
    const { child } = worker;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await worker.exited;
      clearTimeout(timer);
    }
    killWorkersIn(instance.namespace);
  }, STOP_GRACE_MS + 5_000);
  return worker;
}

/**
 * SIGKILL to every process whose command line runs a worker in `namespace` (read from `/proc`,
 * so on Linux only; elsewhere a straggler outlives the test). The namespace is the test's own,
 * so this reaches no one else's workers. A supervisor starts each worker in a process group
 * of its own, so killing the test's process group would not reach them.
 */
function killWorkersIn(namespace: string): void {
  if (!existsSync("/proc")) return;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // it exited meanwhile
    }
    const at = args.indexOf("--namespace");
    if (at > 0 && args[at + 1] === namespace && args.includes("worker")) {
      try {
        process.kill(Number(entry), "SIGKILL");
      } catch {
        // it exited meanwhile
      }
    }
  }
}

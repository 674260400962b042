/**
 * A worker in a real child process — `npm run step NN -- worker` — so tests
 * can kill it with SIGKILL at a moment they choose, as a crash would.
 *
 * @module
 */
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
 * starts may outlive the run.
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
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await worker.exited;
    clearTimeout(timer);
  }, STOP_GRACE_MS + 5_000);
  return worker;
}

/**
 * A worker in a real child process — `npm run step NN -- worker` — so tests
 * can kill it with SIGKILL at a moment they choose, as a crash would.
 *
 * @module
 */
import type { StepInstance } from "../../lib/step.ts";
import { spawnWorkerProcess, type WorkerProcess } from "../../lib/worker-process.ts";
import { testDatabaseUrl, testRedisUrl } from "../services.ts";

export type { WorkerProcess } from "../../lib/worker-process.ts";

/**
 * Starts `npm run step NN -- worker --namespace <instance's namespace> …args`
 * against the servers this test run uses. The CLI prints `▶ job <id>` when a
 * job starts, which is the moment crash tests wait for.
 */
export function spawnWorker(instance: StepInstance, args: readonly string[] = []): WorkerProcess {
  return spawnWorkerProcess({
    stepId: instance.step.id,
    namespace: instance.namespace,
    args,
    env: { ...process.env, DATABASE_URL: testDatabaseUrl(), REDIS_URL: testRedisUrl() },
  });
}

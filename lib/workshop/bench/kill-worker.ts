/**
 * The crash scenario's first half: a worker in a process of its own, killed
 * with SIGKILL in the middle of its work — once it has finished a given
 * number of jobs, so it is busy and mid-batch whatever the machine's speed.
 *
 * @module
 */
import { now } from "../../events.ts";
import type { StepInstance } from "../../step.ts";
import { spawnWorkerProcess } from "../../worker-process.ts";

export interface KillSettings {
  readonly concurrency: number;
  /** SIGKILL once the worker has finished (or failed) this many jobs. */
  readonly killAfterFinished: number;
  /** Fail if it has not finished that many by then. */
  readonly timeoutMs: number;
  /** More flags for the worker command (heartbeat settings, say). */
  readonly args?: readonly string[];
}

/** What the killed worker printed it had started and finished, and when it was killed (epoch ms). */
export interface KilledWorker {
  readonly startedThere: ReadonlySet<string>;
  readonly finishedThere: ReadonlySet<string>;
  readonly killedAt: number;
}

/**
 * Starts `npm run step NN -- worker --concurrency N` on `instance`'s
 * namespace and kills it with SIGKILL once it has finished
 * `killAfterFinished` jobs. What it started and finished comes from its
 * output: `▶ job ID` before a job runs, `✓`/`✗ job ID` once recorded.
 */
export async function runWorkerAndKill(
  instance: StepInstance,
  settings: KillSettings,
): Promise<KilledWorker> {
  const startedThere = new Set<string>();
  const finishedThere = new Set<string>();
  const crashing = spawnWorkerProcess({
    stepId: instance.step.id,
    namespace: instance.namespace,
    args: ["--concurrency", String(settings.concurrency), ...(settings.args ?? [])],
  });
  let enough = () => {};
  const busy = new Promise<void>((resolve) => {
    enough = resolve;
  });
  crashing.onLine((line) => {
    const started = /▶ job (\S+) /.exec(line)?.[1];
    if (started) startedThere.add(started);
    const finished = /[✓✗] job (\S+) /.exec(line)?.[1];
    if (finished) finishedThere.add(finished);
    if (finishedThere.size >= settings.killAfterFinished) enough();
  });
  const timer = setTimeout(enough, settings.timeoutMs);
  await busy;
  clearTimeout(timer);
  crashing.child.kill("SIGKILL");
  const killedAt = now();
  await crashing.exited;
  if (finishedThere.size < settings.killAfterFinished) {
    throw new Error(
      `The worker process did not finish ${settings.killAfterFinished} jobs in time:\n${crashing.output()}`,
    );
  }
  return { startedThere, finishedThere, killedAt };
}

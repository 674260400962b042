/**
 * The chaos scenario of step 09's benchmark: several worker processes, started through the
 * public CLI (`npm run step NN -- worker`), killed with SIGKILL one after another while they
 * run jobs, each replaced by a new one — and then every job accounted for.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { StepInstance } from "../../../lib/step.ts";
import { spawnWorkerProcess, type WorkerProcess } from "../../../lib/worker-process.ts";

export interface ChaosSettings {
  readonly jobs: number;
  readonly sleepMs: number;
  /** Worker processes running at once. */
  readonly processes: number;
  readonly concurrency: number;
  readonly kills: number;
  /** The pause before each kill. */
  readonly killEveryMs: number;
  /** After the last kill, no job done for this long: the rest will never be. */
  readonly quietMs: number;
  readonly timeoutMs: number;
}

/** One run, accounted for: every job is done, stuck or lost. */
export interface ChaosResult {
  readonly kills: number;
  /** Recorded finished or failed (in the dead queue, for steps that have one). */
  readonly done: number;
  /** Never done, and still waiting somewhere (a queue, a processing list, a retry). */
  readonly stuck: number;
  /** Never done, and nowhere. */
  readonly lost: number;
  /** Started more than once (a kill interrupted them, and they ran again). */
  readonly ranTwice: number;
  /** Reported finished more than once. */
  readonly finishedTwice: number;
  /** From the first job enqueued to the last done, in milliseconds. */
  readonly wallMs: number;
}

/**
 * Enqueues `jobs` sleeping jobs, starts `processes` worker processes with `workerArgs`, and
 * every `killEveryMs` SIGKILLs one that has started a job (chosen at random) and starts
 * another in its place, `kills` times. Then waits until every job is done or nothing has been
 * done for `quietMs`, stops the workers with SIGTERM, and reads what became of each job from
 * the workers' own output (`▶`, `✓`, `✗` lines) and the step's counts.
 * (The quiet time counts only once every live process is ready, from when the last one became
 * ready: on a busy machine a replacement takes seconds to start, and until it has, a quiet
 * queue only means nobody is there yet.)
 */
export async function measureChaos(
  instance: StepInstance,
  settings: ChaosSettings,
  workerArgs: readonly string[],
): Promise<ChaosResult> {
  await instance.reset();
  const startedAt = Date.now();
  const ids = await instance.enqueueMany(
    Array.from({ length: settings.jobs }, () => ({
      name: "Sleep",
      args: { ms: settings.sleepMs },
    })),
  );
  const starts = new Map<string, number>();
  const finishes = new Map<string, number>();
  const failed = new Set<string>();
  /** When a job was last seen done, or a process last became ready: the quiet time's start. */
  let lastDoneAt = Date.now();
  let lastCompletionAt = startedAt;
  /** Printed that it runs: started, registered, taking jobs. */
  const ready = new Set<WorkerProcess>();
  const busy = new Set<WorkerProcess>();
  const live = new Set<WorkerProcess>();
  const all: WorkerProcess[] = [];
  const spawn = () => {
    const worker = spawnWorkerProcess({
      stepId: instance.step.id,
      namespace: instance.namespace,
      args: ["--concurrency", String(settings.concurrency), ...workerArgs],
    });
    worker.onLine((line) => {
      // A new process is ready: the quiet time counts from here, not from before its start.
      if (line.includes(" running with ")) {
        ready.add(worker);
        lastDoneAt = Date.now();
      }
      const started = /▶ job (\S+) /.exec(line)?.[1];
      if (started) {
        starts.set(started, (starts.get(started) ?? 0) + 1);
        busy.add(worker);
      }
      const finished = /✓ job (\S+) /.exec(line)?.[1];
      if (finished) finishes.set(finished, (finishes.get(finished) ?? 0) + 1);
      const gaveUp = /✗ job (\S+) /.exec(line)?.[1];
      if (gaveUp) failed.add(gaveUp);
      if (finished || gaveUp) [lastDoneAt, lastCompletionAt] = [Date.now(), Date.now()];
    });
    live.add(worker);
    all.push(worker);
  };
  const doneCount = () => ids.filter((id) => finishes.has(id) || failed.has(id)).length;
  try {
    for (let i = 0; i < settings.processes; i++) spawn();
    let kills = 0;
    const deadline = Date.now() + settings.timeoutMs;
    while (kills < settings.kills && doneCount() < ids.length && Date.now() < deadline) {
      await sleep(settings.killEveryMs);
      const candidates = [...live].filter((worker) => busy.has(worker));
      const victim = candidates[Math.floor(Math.random() * candidates.length)];
      if (victim === undefined) continue;
      victim.child.kill("SIGKILL");
      live.delete(victim);
      await victim.exited;
      kills++;
      spawn();
    }
    lastDoneAt = Date.now();
    const starting = () => [...live].some((worker) => !ready.has(worker));
    while (
      doneCount() < ids.length &&
      (starting() || Date.now() - lastDoneAt < settings.quietMs) &&
      Date.now() < deadline
    ) {
      await sleep(100);
    }
    const wallMs = lastCompletionAt - startedAt;
    await stopAll(live);
    // Done, as the step recorded it: a killed worker may have recorded a job and died
    // before its "✓" line reached us.
    const counts = await instance.counts();
    const done = (counts.finished ?? 0) + (counts.failed ?? 0);
    // Waiting somewhere: step 04's queue; step 09's queue, processing lists and retry set.
    const stuck = ["queued", "ready", "claimed", "scheduled"]
      .map((state) => counts[state] ?? 0)
      .reduce((sum, count) => sum + count, 0);
    return {
      kills,
      done,
      stuck,
      lost: ids.length - done - stuck,
      ranTwice: ids.filter((id) => (starts.get(id) ?? 0) > 1).length,
      finishedTwice: ids.filter((id) => (finishes.get(id) ?? 0) > 1).length,
      wallMs,
    };
  } finally {
    for (const worker of all) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) {
        worker.child.kill("SIGKILL");
      }
    }
  }
}

/** SIGTERM to each (a clean stop: step 09 hands back what it holds) and wait for all to exit. */
async function stopAll(workers: ReadonlySet<WorkerProcess>): Promise<void> {
  const exits = [...workers].map((worker) => worker.exited);
  for (const worker of workers) worker.child.kill("SIGTERM");
  await Promise.all(exits);
}

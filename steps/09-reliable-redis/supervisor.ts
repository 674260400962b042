/**
 * The supervisor: a process that starts N worker processes, restarts any that exits
 * unexpectedly — reaping it first — passes SIGINT / SIGTERM on to them, and exits when they
 * have. It runs the reaper and the mover for its group, so its workers run neither.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import type { SuperviseOptions, Supervisor } from "../../lib/step.ts";
import { spawnWorkerProcess, type WorkerProcess } from "../../lib/worker-process.ts";
import { checkRetryBackoff, DEFAULT_RETRY_BACKOFF } from "./backoff.ts";
import { Heartbeat, heartbeatSettings } from "./heartbeat.ts";
import { leave, registeredProcesses, registerProcess } from "./processes.ts";
import { describeReapedJobs, type ReapPolicy, reapDeadProcesses, reapProcess } from "./reaper.ts";
import { DEFAULT_DISPATCH_INTERVAL_MS, Mover } from "./scheduled.ts";
import type { StepSettings } from "./worker-settings.ts";

/**
 * A worker that dies within this long of starting is restarted only after a pause, so a
 * worker that cannot start at all is not restarted in a tight loop.
 */
const QUICK_DEATH_MS = 2_000;
const RESTART_PAUSE_MS = 1_000;

/**
 * Registers the supervisor as a process (kind `Supervisor`, with a heartbeat key), reaps at
 * every beat, moves due jobs, and starts `processes` workers: `npm run step 09 -- worker`
 * processes with the same flags and `--supervisor-id`. As step 08's supervisor, with Redis
 * keys for rows; see step 06 for why separate processes.
 */
// #region supervisor
export async function startSupervisor(
  redis: Redis,
  stepId: string,
  namespace: string,
  options: SuperviseOptions & StepSettings,
): Promise<Supervisor> {
  const beat = heartbeatSettings(options.heartbeatIntervalMs, options.aliveThresholdMs);
  const say = (text: string) => options.out.line(`supervisor: ${text}`);
  const me = await registerProcess(redis, {
    kind: "Supervisor",
    name: `supervisor:${process.pid}`,
    supervisorId: null,
    aliveThresholdMs: beat.thresholdMs,
  });
  // Attempts are judged by the workshop's registry — the one its workers run.
  const policy: ReapPolicy = {
    registry: workshopJobs(),
    backoff: checkRetryBackoff(options.retryBackoff ?? DEFAULT_RETRY_BACKOFF),
  };
  const report = (dead: Awaited<ReturnType<typeof reapDeadProcesses>>) => {
    for (const { process: gone, jobs } of dead) {
      say(`process ${gone.id} (${gone.name}) is dead; ${describeReapedJobs(jobs)}`);
    }
  };
  const reap = () =>
    reapDeadProcesses(redis, policy, me.id)
      .then(report)
      .catch((error) => say(`reaping failed (${error}); retrying`));
  await reap(); // what died while nothing watched
  const heartbeat = new Heartbeat(redis, me, {
    intervalMs: beat.intervalMs,
    onError: (error) => say(`heartbeat failed (${error}); retrying`),
    onRegisteredAgain: () => say("was taken for dead and reaped; registered again"),
    onBeat: reap,
  });
  const mover = new Mover(
    redis,
    options.dispatchIntervalMs ?? DEFAULT_DISPATCH_INTERVAL_MS,
    (error) => say(`moving due jobs failed (${error}); retrying`),
  );
  const workers = new WorkerProcesses({
    stepId,
    namespace,
    args: () => [...options.workerArgs, "--supervisor-id", me.id],
    out: options.out,
    // It exited: it is dead now, whatever its heartbeat key says. Its jobs go back at once,
    // not an alive threshold later.
    onUnexpectedExit: async (pid) => {
      const gone = (await registeredProcesses(redis)).filter(
        (p) => p.pid === pid && p.supervisorId === me.id,
      );
      for (const process_ of gone) {
        const reaped = await reapProcess(redis, process_, policy, true);
        if (reaped) report([reaped]);
      }
    },
  });
  for (let i = 0; i < options.processes; i++) workers.start();

  return {
    id: me.id,
    async stop(signal) {
      await workers.stopAll(signal);
      await heartbeat.stop();
      await mover.stop();
      await leave(redis, me.id);
    },
  };
}
// #endregion supervisor

export interface WorkerProcessesOptions {
  readonly stepId: string;
  readonly namespace: string;
  /** The `worker` command's arguments for each process, as they are when it starts. */
  readonly args: () => readonly string[];
  /** Where the supervisor and its workers' lines go. */
  readonly out: SuperviseOptions["out"];
  /** A worker exited without being told to; awaited before its replacement starts. */
  readonly onUnexpectedExit?: (pid: number) => Promise<void>;
}

/** The supervisor's worker processes: started, replaced when one exits unexpectedly, stopped together. */
export class WorkerProcesses {
  readonly #options: WorkerProcessesOptions;
  readonly #running = new Set<WorkerProcess>();
  #stopping = false;

  constructor(options: WorkerProcessesOptions) {
    this.#options = options;
  }

  /** Starts one worker process, and another in its place whenever it exits unexpectedly. */
  start(): void {
    const { out } = this.#options;
    const startedAt = Date.now();
    const worker = spawnWorkerProcess({
      stepId: this.#options.stepId,
      namespace: this.#options.namespace,
      args: this.#options.args(),
      // Its own process group: a Ctrl-C reaches the supervisor only, which passes it on once.
      detached: true,
    });
    this.#running.add(worker);
    const pid = worker.child.pid;
    worker.onLine((line) => {
      if (line.trim() !== "") out.line(`[worker ${pid}] ${line}`);
    });
    void worker.exited.then(async ({ code, signal }) => {
      this.#running.delete(worker);
      if (this.#stopping) return;
      out.line(
        `supervisor: worker ${pid} exited unexpectedly (${signal ?? `code ${code}`}); starting another`,
      );
      if (pid !== undefined) {
        await this.#options
          .onUnexpectedExit?.(pid)
          .catch((error) =>
            out.line(`supervisor: reaping worker ${pid} failed (${error}); the next beat will`),
          );
      }
      if (Date.now() - startedAt < QUICK_DEATH_MS) await sleep(RESTART_PAUSE_MS);
      if (!this.#stopping) this.start();
    });
    out.line(`supervisor: started worker process ${pid}`);
  }

  /** Sends `signal` to every worker process and resolves when all have exited. */
  async stopAll(signal: NodeJS.Signals): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#running].map((worker) => worker.exited);
    for (const worker of this.#running) worker.child.kill(signal);
    await Promise.all(exits);
  }
}

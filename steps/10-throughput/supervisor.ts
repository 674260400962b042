// Unchanged from step 08: steps/08-recovery/supervisor.ts
/**
 * The supervisor: a process that starts N worker processes, restarts any
 * that exits unexpectedly, passes SIGINT / SIGTERM on to them, and exits
 * when they have. Step 07: it also runs the dispatcher, which moves
 * scheduled jobs to ready when they are due. Step 08: and the recovery
 * loop, which it wakes whenever one of its workers dies.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import type { Database } from "../../lib/postgres/database.ts";
import type { SuperviseOptions, Supervisor } from "../../lib/step.ts";
import { spawnWorkerProcess, type WorkerProcess } from "../../lib/worker-process.ts";
import { checkRetryBackoff, DEFAULT_RETRY_BACKOFF, maxAttemptsOf } from "./backoff.ts";
import { Dispatcher } from "./dispatcher.ts";
import { heartbeatSettings } from "./heartbeat.ts";
import { ProcessLifecycle } from "./lifecycle.ts";
import { describeRecoveredJobs, RecoveryLoop } from "./recovery.ts";
import type { StepSettings } from "./worker-settings.ts";

/**
 * A worker that dies within this long of starting is restarted only after a
 * pause, so a worker that cannot start at all (a bad flag, a database that
 * refuses it) is not restarted in a tight loop.
 */
const QUICK_DEATH_MS = 2_000;
const RESTART_PAUSE_MS = 1_000;

/**
 * Registers the supervisor as a process of its own (kind `Supervisor`, with a
 * heartbeat), then starts `processes` workers: `npm run step 08 -- worker`
 * processes with the same flags and `--supervisor-id`, so their rows say who
 * started them.
 *
 * Why separate processes and not N workers in this one: a process is what
 * dies — of a crash in native code, an out-of-memory kill, a job that spins
 * for ever — and only a process outside it can notice and start another.
 * (Solid Queue forks; Node cannot fork a running program, so we start fresh
 * ones. Sidekiq leaves this to systemd or Kubernetes.)
 *
 * A real system would also watch the rows: a worker whose heartbeat stopped
 * while its process lives on (stuck in a loop) would be killed and replaced.
 * Here the supervisor only notices exits.
 */
// #region supervisor
export async function startSupervisor(
  database: Database,
  stepId: string,
  options: SuperviseOptions & StepSettings,
): Promise<Supervisor> {
  const beat = heartbeatSettings(options.heartbeatIntervalMs, options.aliveThresholdMs);
  const say = (text: string) => options.out.line(`supervisor: ${text}`);
  // The supervisor lives a worker's life as a process: a row, a heartbeat,
  // and — if it is ever taken for dead (a database away for longer than its
  // threshold) and pruned — a new row, so its workers and the recovery loop
  // go on under a live id. (Before step 08 a pruned supervisor's heartbeat
  // would just stop, and the workers it starts next would name a row that
  // is gone.)
  const stopping = new AbortController();
  const lifecycle = new ProcessLifecycle(database, {
    kind: "Supervisor",
    name: `supervisor:${process.pid}`,
    beat,
    stopping: stopping.signal,
    report: (part, error) =>
      say(part === "heartbeat" ? `heartbeat failed (${error}); retrying` : String(error)),
  });
  const registered = await lifecycle.register();
  if (registered === undefined) throw new Error("The supervisor stopped before it registered.");
  const currentId = () => lifecycle.processId ?? registered;
  // Recovery: at once (what died while nothing watched), then every beat.
  // The supervisor judges attempts by the workshop's registry — the one its
  // workers run (a real system would store max_attempts on the job row).
  const registry = workshopJobs();
  const recovery = new RecoveryLoop(database, {
    intervalMs: beat.intervalMs,
    policy: {
      maxAttemptsOf: (name) => maxAttemptsOf(registry, name),
      backoff: checkRetryBackoff(options.retryBackoff ?? DEFAULT_RETRY_BACKOFF),
    },
    self: currentId,
    onRecovered: (dead) =>
      say(`process ${dead.processId} (${dead.name}) is dead; ${describeRecoveredJobs(dead.jobs)}`),
    onError: (error) => say(`recovery failed (${error}); retrying`),
  });
  // One dispatcher per supervisor; its workers run none (see dispatcher.ts).
  const dispatcher = new Dispatcher(database, {
    onError: (error) => say(`dispatching failed (${error}); retrying`),
  });
  const workers = new WorkerProcesses({
    stepId,
    namespace: database.schema,
    args: () => [...options.workerArgs, "--supervisor-id", currentId()],
    out: options.out,
    // Its jobs go back now, before a replacement can take its pid.
    onUnexpectedExit: (pid) => recovery.workerExited(currentId(), pid),
  });
  for (let i = 0; i < options.processes; i++) workers.start();

  return {
    id: registered,
    async stop(signal) {
      await workers.stopAll(signal);
      await recovery.stop();
      await dispatcher.stop();
      stopping.abort();
      await lifecycle.deregister();
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
// #region worker-processes
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
      // Its own process group: a Ctrl-C reaches the supervisor only, which
      // passes it on once. (In one group, each worker would get it twice —
      // from the terminal and from us — and a second signal means "exit now".)
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
      if (pid !== undefined) await this.#options.onUnexpectedExit?.(pid);
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
// #endregion worker-processes

/**
 * A worker's life as a process: it registers a row in `processes` (trying
 * again while the database is away), heartbeats, registers again when it
 * finds its row gone (step 08: it was taken for dead and pruned), stops when
 * its supervisor is gone, and deletes its row when it stops cleanly.
 *
 * A worker has two identities, one name each: its **name** (`host:pid`, or
 * `--name`: what its log lines say, the `Worker.id` of the contract) and its
 * **process id** (its row in `processes`, which its claims point at). A
 * slot of it, running one job, is `name/slot` in its log lines: the events'
 * `workerId` field.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Database } from "../../lib/postgres/database.ts";
import { Heartbeat } from "./heartbeat.ts";
import { deregisterProcess, registerProcess } from "./processes.ts";

/** How long to wait before registering again after the database refused (it is restarting, say). */
const REGISTER_RETRY_MS = 1_000;

export interface LifecycleOptions {
  /** A `Worker`, or (step 08) a `Supervisor`, which lives the same life. */
  readonly kind?: "Worker" | "Supervisor";
  readonly name: string;
  /** The supervisor that started this worker, if one did. */
  readonly supervisorId?: string;
  readonly beat: { readonly intervalMs: number; readonly thresholdMs: number };
  /** Aborted when the worker is told to stop: registering gives up then. */
  readonly stopping: AbortSignal;
  /** Something failed (a registration, a heartbeat, the supervisor is gone); `part` says which. */
  readonly report: (part: "heartbeat" | undefined, error: unknown) => void;
}

// #region lifecycle
export class ProcessLifecycle {
  readonly #database: Database;
  readonly #options: LifecycleOptions;
  readonly #parentAtStart = process.ppid;
  #toldToStop = false;
  #processId: string | undefined;
  #heartbeat: Heartbeat | undefined;
  /** A registration under way after the row was found gone; whoever else notices waits for it. */
  #registeringAgain: Promise<string | undefined> | undefined;

  constructor(database: Database, options: LifecycleOptions) {
    this.#database = database;
    this.#options = options;
  }

  /** This worker's row in `processes`, once it has registered. */
  get processId(): string | undefined {
    return this.#processId;
  }

  /**
   * The row to claim under, once a registration under way has ended;
   * `undefined` if the worker stopped before it could register.
   */
  async current(): Promise<string | undefined> {
    await this.#registeringAgain;
    return this.#processId;
  }

  /**
   * Inserts the row — trying again every second while the database is away,
   * until the worker is stopped (then `undefined`) — and starts beating.
   */
  async register(): Promise<string | undefined> {
    const { name, supervisorId, beat, stopping, report } = this.#options;
    while (!stopping.aborted) {
      try {
        const processId = await registerProcess(this.#database, {
          kind: this.#options.kind ?? "Worker",
          name,
          supervisorId,
          aliveThresholdMs: beat.thresholdMs,
        });
        this.#processId = processId;
        this.#heartbeat = new Heartbeat(this.#database, {
          processId,
          intervalMs: beat.intervalMs,
          onError: (error) => report("heartbeat", error),
          onBeat: () => this.#checkOnSupervisor(),
          onPruned: () => void this.registerAgain(processId),
        });
        return processId;
      } catch (error) {
        report(undefined, error);
        await sleep(REGISTER_RETRY_MS, undefined, { signal: stopping }).catch(() => {});
      }
    }
    return undefined;
  }

  /**
   * The row `stale` is gone: this process was taken for dead — it was silent
   * for longer than its threshold: a long pause, a database away for a
   * minute — and pruned, its jobs sent back through the retry path. It is
   * alive, so it registers again, as a new process, and goes on claiming.
   * The jobs it still runs under the old row end as `superseded`: they run
   * again elsewhere. (Solid Queue's processes stop instead, and leave
   * starting a new one to their supervisor; here a worker may have none.)
   *
   * Two things notice: the heartbeat, whose UPDATE finds no row, and a
   * claim the database refuses (its claimer's row is gone: claims.ts). The
   * first registers; the other waits for it.
   */
  // #region register-again
  registerAgain(stale: string): Promise<string | undefined> {
    if (this.#processId === stale) {
      this.#registeringAgain ??= this.#replace(stale).finally(() => {
        this.#registeringAgain = undefined;
      });
    }
    return this.current();
  }

  async #replace(stale: string): Promise<string | undefined> {
    this.#options.report(
      undefined,
      `process ${stale} was taken for dead and pruned (its jobs went back through the retry path): registering again`,
    );
    this.#processId = undefined;
    await this.#heartbeat?.stop();
    return this.register();
  }
  // #endregion register-again

  /**
   * Stops beating and deletes the row: a process that said goodbye is not
   * dead. Call it once its jobs have finished — the row does not go while
   * claims point at it (processes.ts).
   */
  async deregister(): Promise<void> {
    await this.#heartbeat?.stop();
    if (this.#processId === undefined) return;
    await deregisterProcess(this.#database, this.#processId).catch((error: unknown) =>
      this.#options.report(undefined, error),
    );
  }

  /**
   * A worker started by a supervisor stops when its supervisor is gone (its
   * parent process changed: the supervisor was killed and the worker was
   * handed to init). Solid Queue's workers do the same. It stops the way a
   * SIGTERM would stop it — finish the running jobs, deregister — by sending
   * itself one, so the worker command's usual shutdown runs. Only one: the
   * heartbeat goes on while the jobs finish, and a second SIGTERM means "exit
   * at once" — mid-job, still holding the claims.
   */
  #checkOnSupervisor(): void {
    const { supervisorId } = this.#options;
    if (supervisorId === undefined || this.#toldToStop || process.ppid === this.#parentAtStart) {
      return;
    }
    this.#toldToStop = true;
    this.#options.report(
      undefined,
      `Supervisor ${supervisorId} (pid ${this.#parentAtStart}) is gone: stopping.`,
    );
    process.kill(process.pid, "SIGTERM");
  }
}
// #endregion lifecycle

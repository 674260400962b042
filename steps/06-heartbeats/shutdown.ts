/**
 * How a worker stops (SIGTERM, Ctrl-C, or `Worker.stop()`): it stops
 * claiming, lets the jobs it runs finish and record themselves — however
 * long they take, in this step — then says goodbye: a process that
 * deregistered is not dead.
 *
 * @module
 */
import type { ProcessLifecycle } from "./lifecycle.ts";
import type { Listener } from "./listener.ts";
import type { SlotPool } from "./slots.ts";

/** The parts of a running worker that a stop winds down, in this order. */
export interface RunningWorker {
  /** Aborting it ends the claim loop (and a registration still being tried). */
  readonly stopping: AbortController;
  /** The worker's life until it stopped claiming: registering, then the claim loop. */
  readonly claiming: Promise<void>;
  readonly slots: SlotPool;
  readonly lifecycle: ProcessLifecycle;
  readonly listener: Listener;
}

// #region stop
export async function stopWorker(worker: RunningWorker): Promise<void> {
  worker.stopping.abort();
  await worker.claiming;
  await worker.slots.idle();
  await worker.lifecycle.deregister();
  await worker.listener.stop();
}
// #endregion stop

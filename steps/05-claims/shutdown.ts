/**
 * How a worker stops (SIGTERM, Ctrl-C, or `Worker.stop()`): it stops
 * claiming, lets the jobs it runs finish and record themselves — however
 * long they take, in this step — and closes its listening connection.
 *
 * @module
 */
import type { Listener } from "./listener.ts";
import type { SlotPool } from "./slots.ts";

/** The parts of a running worker that a stop winds down, in this order. */
export interface RunningWorker {
  /** Aborting it ends the claim loop. */
  readonly stopping: AbortController;
  /** The claim loop, until it stopped claiming. */
  readonly claiming: Promise<void>;
  readonly slots: SlotPool;
  readonly listener: Listener;
}

// #region stop
export async function stopWorker(worker: RunningWorker): Promise<void> {
  worker.stopping.abort();
  await worker.claiming;
  await worker.slots.idle();
  await worker.listener.stop();
}
// #endregion stop

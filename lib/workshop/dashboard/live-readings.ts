/**
 * One reading of the step per refresh interval, however many pages ask.
 *
 * Every open tab polls; if each poll queried the step, two tabs would cost
 * twice. Instead a poll gets the latest reading while it is fresh (younger
 * than half an interval), and polls that arrive while a reading is under way
 * wait for that one. So the dashboard's cost to the queue is one reading per
 * interval while anyone looks, and nothing when nobody does (no timer runs
 * on its own).
 *
 * @module
 */
import type { StepInstance } from "../../step.ts";
import { CountHistory } from "./history.ts";
import { readSnapshot, type Snapshot } from "./snapshot.ts";

export class LiveReadings {
  readonly history = new CountHistory();
  #latest: Snapshot | undefined;
  #underWay: Promise<Snapshot> | undefined;

  constructor(
    private readonly instance: StepInstance,
    private readonly refreshMs: number,
  ) {}

  /** The latest reading, read again if it is older than half an interval. */
  async current(): Promise<Snapshot> {
    const latest = this.#latest;
    if (latest !== undefined && Date.now() - latest.at < this.refreshMs / 2) return latest;
    return this.#read();
  }

  /** A reading started now (after an action, so the page shows what it did). */
  async fresh(): Promise<Snapshot> {
    await this.#underWay?.catch(() => undefined);
    return this.#read();
  }

  #read(): Promise<Snapshot> {
    this.#underWay ??= readSnapshot(this.instance)
      .then((snapshot) => {
        this.#latest = snapshot;
        this.history.add({ at: snapshot.at, counts: snapshot.counts });
        return snapshot;
      })
      .finally(() => {
        this.#underWay = undefined;
      });
    return this.#underWay;
  }
}

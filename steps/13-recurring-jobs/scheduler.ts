/**
 * The scheduler: what a process that enqueues recurring jobs does each time
 * it wakes. Any number of them may run — every supervisor runs one — and
 * each tick is enqueued once.
 *
 * @module
 */
import type { JobRegistry } from "../../lib/jobs/registry.ts";
import type { Database } from "../../lib/postgres/database.ts";
import type { RecurringSchedule, ScheduleReport, Scheduler } from "../../lib/step.ts";
import {
  databaseNow,
  enqueueTick,
  lastTicks,
  type SchedulerHooks,
} from "./recurring-executions.ts";
import { type CheckedSchedule, checkSchedules } from "./schedule.ts";

export interface SchedulerOptions {
  /** The jobs a schedule may name, and the schemas its arguments are checked against. */
  readonly registry: JobRegistry;
  readonly hooks?: SchedulerHooks;
}

/**
 * Enqueues the recurring jobs of `schedules`. No leader, no lock held
 * between ticks, no state shared with the other schedulers but the
 * recurring_executions table: each scheduler computes the same ticks from
 * the same expressions, and the key of each tick lets one of them enqueue
 * it (see `enqueueTick`). A scheduler that dies is no loss — the others
 * enqueue what it would have — and one that comes back after a gap
 * catches up as each schedule says (`missedTicks`).
 *
 * The schedules are checked when it is made (see `checkSchedules`): an
 * invalid one throws here, naming the schedule, before anything is
 * enqueued.
 */
// #region scheduler
export class TickingScheduler implements Scheduler {
  readonly #database: Database;
  readonly #schedules: readonly CheckedSchedule[];
  readonly #hooks: SchedulerHooks;
  /** When this scheduler first looked: a schedule that never ran starts from its first tick after. */
  #firstLook: Date | undefined;

  constructor(
    database: Database,
    schedules: readonly RecurringSchedule[],
    options: SchedulerOptions,
  ) {
    this.#database = database;
    this.#schedules = checkSchedules(schedules, options.registry);
    this.#hooks = options.hooks ?? {};
  }

  get scheduleCount(): number {
    return this.#schedules.length;
  }

  async tick(at: Date): Promise<string[]> {
    this.#firstLook ??= at;
    const firstLook = this.#firstLook;
    const last = await lastTicks(
      this.#database,
      this.#schedules.map((schedule) => schedule.name),
    );
    const enqueued: string[] = [];
    for (const schedule of this.#schedules) {
      const lastTick = last.get(schedule.name)?.tickAt ?? null;
      // Oldest first, each tick in a transaction of its own: a scheduler
      // killed halfway through a backfill leaves the ticks before the kill
      // enqueued, and the next scheduler carries on from the last of them.
      for (const tickAt of schedule.dueTicks(at, lastTick, firstLook)) {
        const jobId = await enqueueTick(this.#database, schedule.definition, tickAt, this.#hooks);
        if (jobId !== null) enqueued.push(jobId);
      }
    }
    return enqueued;
  }

  /** The first tick of any schedule after `after`: when this scheduler should wake next. */
  nextTick(after: Date): Date | null {
    const next = this.#schedules
      .map((schedule) => schedule.nextTick(after))
      .filter((tick) => tick !== null);
    return next.length === 0 ? null : new Date(Math.min(...next.map((tick) => tick.getTime())));
  }

  async list(): Promise<ScheduleReport[]> {
    const now = await databaseNow(this.#database);
    const last = await lastTicks(
      this.#database,
      this.#schedules.map((schedule) => schedule.name),
    );
    return this.#schedules.map((schedule) => ({
      schedule: schedule.definition,
      last: last.get(schedule.name) ?? null,
      nextTickAt: schedule.nextTick(now),
    }));
  }
}
// #endregion scheduler

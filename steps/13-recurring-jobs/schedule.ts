/**
 * A recurring schedule, checked and ready to say which of its ticks are due.
 *
 * The cron expression is read by `croner` (npm), not by a parser of our
 * own: cron has corners — day-of-month OR day-of-week, `L`, ranges with
 * steps, a 02:30 that does not exist on the night clocks go forward — that a
 * lesson about queues has no business re-deriving, and croner has them
 * tested. Why croner rather than `cron-parser`, the other well-kept one:
 * it has no dependencies (cron-parser brings luxon for its time zones;
 * croner uses the runtime's own `Intl`), it runs on Node 20, and it can list
 * the runs *before* a moment (`previousRuns`), which is exactly the
 * question a scheduler asks after a gap.
 *
 * @module
 */
import { Cron } from "croner";
import { InputError } from "../../lib/input-error.ts";
import { checkJobArguments } from "../../lib/jobs/argument-schema.ts";
import { serializeArguments } from "../../lib/jobs/arguments.ts";
import type { JobRegistry } from "../../lib/jobs/registry.ts";
import type { RecurringSchedule } from "../../lib/step.ts";

/** The zone a schedule's expression is read in unless it names one. */
export const DEFAULT_TIME_ZONE = "UTC";

/**
 * The most missed ticks one schedule may fill: a bound on the bound, so a
 * schedule that says `{ fillUpTo: 1e9 }` is refused at start rather than
 * enqueuing a billion jobs after a weekend down.
 */
export const MAX_FILL = 10_000;

/** A schedule that cannot run: it says which, and what is wrong with it. */
export class InvalidScheduleError extends InputError {
  override name = "InvalidScheduleError";
  constructor(scheduleName: string, problem: string) {
    super(`Schedule ${JSON.stringify(scheduleName)}: ${problem}`);
  }
}

/** A schedule whose expression, zone, job and arguments have been checked. */
export class CheckedSchedule {
  readonly definition: RecurringSchedule;
  readonly #cron: Cron;
  /** How many due ticks one wake may enqueue: 1 to skip missed ones, more to fill them. */
  readonly #mostPerWake: number;

  constructor(definition: RecurringSchedule, cron: Cron) {
    this.definition = definition;
    this.#cron = cron;
    const missed = definition.missedTicks ?? "skip";
    this.#mostPerWake = missed === "skip" ? 1 : missed.fillUpTo;
  }

  get name(): string {
    return this.definition.name;
  }

  // #region due-ticks
  /**
   * The ticks due at `at`, oldest first: those at or before `at` and after
   * `lastTick` (the latest any scheduler enqueued) — or, for a schedule that
   * has never run, at or after `firstLook` (when this scheduler first
   * looked: a schedule just added to the code starts from its next tick,
   * rather than firing this morning's run at once). The latest
   * `#mostPerWake` of them at most: a skipping schedule gets the latest
   * only, a filling one as many missed ticks as its bound allows.
   *
   * Every tick is a time the expression names (10:00:00.000), never the
   * moment a scheduler happened to wake (10:00:00.012): two schedulers, or
   * one whose clock is a little off, name the same tick the same way, so
   * its key is the same (GoodJob's double runs from clock drift came from
   * keys that were not).
   */
  dueTicks(at: Date, lastTick: Date | null, firstLook: Date): Date[] {
    // previousRuns(n, ref) lists runs strictly before ref, latest first: a
    // millisecond later than `at` takes in a tick at exactly `at`.
    const latest = this.#cron.previousRuns(this.#mostPerWake, new Date(at.getTime() + 1));
    const due = latest.filter((tick) => (lastTick === null ? tick >= firstLook : tick > lastTick));
    return due.reverse();
  }

  /**
   * The first tick after `after`. From a tick, not from the clock: the next
   * run of a minutely schedule ticked at 10:00 is 10:01, however long the
   * 10:00 one took to enqueue, so the schedule never drifts (a scheduler
   * that sleeps "a minute from now" after each run drifts by the time each
   * run takes).
   */
  nextTick(after: Date): Date | null {
    return this.#cron.nextRun(after);
  }
  // #endregion due-ticks
}

/**
 * Checks every schedule before anything runs, and throws an
 * {@link InvalidScheduleError} naming the first that cannot: a name used
 * twice, an expression croner cannot read or that never matches, an unknown
 * time zone, a job the registry does not know, arguments the job refuses, a
 * fill bound out of range. At start, not at the first tick: a schedule that
 * is wrong would otherwise fail every tick, at 3 a.m., in a log nobody
 * reads.
 */
export function checkSchedules(
  schedules: readonly RecurringSchedule[],
  registry: JobRegistry,
): CheckedSchedule[] {
  const names = new Set<string>();
  return schedules.map((schedule) => {
    if (names.has(schedule.name)) {
      throw new InvalidScheduleError(schedule.name, "the name is used by another schedule.");
    }
    names.add(schedule.name);
    return checkSchedule(schedule, registry);
  });
}

function checkSchedule(schedule: RecurringSchedule, registry: JobRegistry): CheckedSchedule {
  const fail = (problem: string) => new InvalidScheduleError(schedule.name, problem);
  if (schedule.name.trim() === "") throw fail("the name is empty.");
  const timeZone = schedule.timeZone ?? DEFAULT_TIME_ZONE;
  // croner only notices an unknown zone when it first computes a run, with
  // a message about dates; Intl says it plainly, at once.
  try {
    new Intl.DateTimeFormat("en", { timeZone });
  } catch {
    throw fail(
      `unknown time zone ${JSON.stringify(timeZone)} (use an IANA name, e.g. Europe/Paris).`,
    );
  }
  let cron: Cron;
  try {
    cron = new Cron(schedule.cron, { timezone: timeZone, mode: "5-or-6-parts" });
  } catch (error) {
    throw fail(
      `invalid cron expression ${JSON.stringify(schedule.cron)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (cron.nextRun(new Date()) === null) {
    throw fail(`the cron expression ${JSON.stringify(schedule.cron)} never matches.`);
  }
  const missed = schedule.missedTicks ?? "skip";
  if (
    missed !== "skip" &&
    !(Number.isInteger(missed.fillUpTo) && missed.fillUpTo >= 1 && missed.fillUpTo <= MAX_FILL)
  ) {
    throw fail(`missedTicks.fillUpTo must be a whole number from 1 to ${MAX_FILL}.`);
  }
  if (!registry.has(schedule.job)) {
    throw fail(
      `no job named ${JSON.stringify(schedule.job)} is registered (known: ${registry.names().join(", ")}).`,
    );
  }
  const args = schedule.args ?? {};
  try {
    serializeArguments(args);
    checkJobArguments(registry.lookup(schedule.job), args);
  } catch (error) {
    throw fail(error instanceof Error ? error.message : String(error));
  }
  return new CheckedSchedule(schedule, cron);
}

/**
 * `npm run step 13 -- bench`: a job every second, enqueued by 1, 3 and 10
 * schedulers at once — the naive way on step 08 (a `setInterval` in each
 * process) and step 13's (a scheduler in each supervisor, one key per
 * tick) — in the same run: jobs per tick, and what each tick costs.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { workshopJobs } from "../../../lib/jobs/catalog.ts";
import type { RecurringSchedule, StepInstance } from "../../../lib/step.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";
import { databaseNow } from "../recurring-executions.ts";
import { TickingScheduler } from "../scheduler.ts";
import { runSchedulerLoop } from "../scheduler-loop.ts";

interface Settings {
  /** How long each run lets its schedulers tick, in whole seconds (one tick a second). */
  readonly seconds: number;
  readonly schedulerCounts: readonly number[];
}

const FULL: Settings = { seconds: 15, schedulerCounts: [1, 3, 10] };
const QUICK: Settings = { seconds: 3, schedulerCounts: [1, 3, 10] };

const EVERY_SECOND: RecurringSchedule = {
  name: "every-second",
  cron: "* * * * * *",
  job: "Noop",
  args: { schedule: "every-second" },
};

/** The two ways compared, each in a namespace of this benchmark's own. */
const WAYS = [
  { label: "08 + setInterval per process", step: "08", namespace: "bench13_naive" },
  { label: "13 scheduler per supervisor", step: "13", namespace: "bench13" },
] as const;

/** One run: `schedulers` of one way, for `seconds`. */
interface TickResult {
  readonly way: string;
  readonly schedulers: number;
  /** Ticks that passed while they ran (one a second). */
  readonly ticks: number;
  readonly jobs: number;
  readonly jobsPerTick: number;
  /** Statements all schedulers sent, per tick. */
  readonly statementsPerTick: number;
  /** Time all schedulers spent ticking (or enqueuing, for the timers), per tick, in ms. */
  readonly busyMsPerTick: number;
}

export async function runBenchmark({
  open,
  out,
  quick,
  saveResults,
  saveChart,
}: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 13 benchmark — a job every second, with 1, 3 and 10 schedulers");
  say(
    out,
    `A schedule that ticks every second, run for ${settings.seconds} s by each number of ` +
      "schedulers, each with a connection pool of its own as a process would have. Step 08 " +
      "has no scheduler: each process runs a setInterval of 1 s that enqueues the job. Step 13: " +
      "each runs the scheduler loop a supervisor runs, on the database's clock. Statements " +
      "and busy time are those of all schedulers together, per tick; busy time is the time " +
      "spent in tick (waiting on another's key included) or in enqueue. All schedulers run in " +
      "this one Node process, so ten of them also wait for each other's turn on its event loop.",
  );
  const results: TickResult[] = [];
  for (const count of settings.schedulerCounts) {
    for (const way of WAYS) {
      out.line(`  ${count} scheduler(s), ${way.label}…`);
      const instances = await Promise.all(
        Array.from({ length: count }, () =>
          open({ step: way.step, namespace: way.namespace, poolSize: 2 }),
        ),
      );
      try {
        await instances[0]?.reset();
        await openConnections(instances);
        const measure = way.step === "08" ? measureTimers : measureSchedulers;
        results.push({
          way: way.label,
          schedulers: count,
          ...(await measure(instances, settings)),
        });
      } finally {
        await Promise.all(instances.map((instance) => instance.close()));
      }
    }
  }
  out.line("");
  for (const line of renderTable(
    [
      "way",
      "schedulers",
      "ticks",
      "jobs",
      "jobs per tick",
      "statements per tick",
      "busy ms per tick",
    ],
    results.map((result) => [
      result.way,
      String(result.schedulers),
      String(result.ticks),
      String(result.jobs),
      formatNumber(result.jobsPerTick),
      formatNumber(result.statementsPerTick),
      formatNumber(result.busyMsPerTick),
    ]),
  ))
    out.line(`  ${line}`);
  say(
    out,
    "The timers enqueue one job per process per tick: duplicates grow with the processes. " +
      "Step 13 enqueues one, whatever their number. Its cost per tick grows with them too, " +
      "but by little: the scheduler that wakes first enqueues (10 statements, with the key and " +
      "the clock); one that arrives while the key is held waits for it and does nothing " +
      "(5); one that arrives later sees the tick taken and sends no transaction at all (2).",
  );
  await saveResults("step-13", settings, { results });
  await saveChart("recurring.svg", {
    title: "Jobs enqueued per tick of a one-job schedule",
    valueLabel: "jobs per tick",
    categories: WAYS.map((way, index) => ({
      label: way.label,
      colour: ["#e15759", "#59a14f"][index] ?? "#888",
      highlight: way.step === "13",
    })),
    series: settings.schedulerCounts.map((count) => ({
      label: `${count} scheduler(s)`,
      values: WAYS.map(
        (way) =>
          results.find((result) => result.way === way.label && result.schedulers === count)
            ?.jobsPerTick ?? null,
      ),
    })),
  });
}

type Measured = Omit<TickResult, "way" | "schedulers">;

/**
 * Step 08: a `setInterval` in each "process", started when the process
 * starts (a random moment within the first second), each stopped after it
 * fired `seconds` times: the same ticks for every process, however late it
 * started.
 */
async function measureTimers(instances: StepInstance[], settings: Settings): Promise<Measured> {
  const statementsBefore = totalStatements(instances);
  let busyMs = 0;
  const enqueues: Promise<unknown>[] = [];
  const timing = async (instance: StepInstance) => {
    const started = performance.now();
    await instance.enqueue(EVERY_SECOND.job, EVERY_SECOND.args);
    busyMs += performance.now() - started;
  };
  await Promise.all(
    instances.map(async (instance) => {
      await sleep(Math.random() * 1_000);
      await new Promise<void>((done) => {
        let fired = 0;
        const timer = setInterval(() => {
          enqueues.push(timing(instance));
          if (++fired < settings.seconds) return;
          clearInterval(timer);
          done();
        }, 1_000);
      });
    }),
  );
  await Promise.all(enqueues);
  const statements = totalStatements(instances) - statementsBefore;
  return summary(settings.seconds, await countJobs(instances[0]), statements, busyMs);
}

/** Step 13: the scheduler loop of each supervisor, on the database's clock. */
async function measureSchedulers(instances: StepInstance[], settings: Settings): Promise<Measured> {
  const statementsBefore = totalStatements(instances);
  const stopping = new AbortController();
  const timed = instances.map((instance) => {
    if (!instance.database) throw new Error("Step 13 is a Postgres step.");
    return new TimedScheduler(instance.database, [EVERY_SECOND], { registry: workshopJobs() });
  });
  const loops = timed.map((scheduler, index) => {
    const database = instances[index]?.database;
    if (!database) throw new Error("Step 13 is a Postgres step.");
    return runSchedulerLoop(
      scheduler,
      {
        clock: () => databaseNow(database),
        onError: (error) => {
          throw error;
        },
      },
      stopping.signal,
    );
  });
  await sleep(settings.seconds * 1_000);
  stopping.abort();
  await Promise.all(loops);
  const statements = totalStatements(instances) - statementsBefore;
  const [row] =
    (await instances[0]?.database?.query<{ ticks: number }>(
      "SELECT count(*)::int AS ticks FROM recurring_executions",
    )) ?? [];
  const jobs = await countJobs(instances[0]);
  const busyMs = timed.reduce((sum, scheduler) => sum + scheduler.busyMs, 0);
  return summary(row?.ticks ?? 0, jobs, statements, busyMs);
}

/** The scheduler with a stopwatch on its ticks. */
class TimedScheduler extends TickingScheduler {
  busyMs = 0;

  override async tick(at: Date): Promise<string[]> {
    const started = performance.now();
    try {
      return await super.tick(at);
    } finally {
      this.busyMs += performance.now() - started;
    }
  }
}

function summary(ticks: number, jobs: number, statements: number, busyMs: number): Measured {
  const perTick = (value: number) => (ticks === 0 ? 0 : value / ticks);
  return {
    ticks,
    jobs,
    jobsPerTick: perTick(jobs),
    statementsPerTick: perTick(statements),
    busyMsPerTick: perTick(busyMs),
  };
}

/**
 * Opens both connections of every pool before the clock starts: a short
 * run would otherwise measure mostly the connecting (tens of milliseconds
 * each, once).
 */
async function openConnections(instances: readonly StepInstance[]): Promise<void> {
  await Promise.all(
    instances.flatMap((instance) => [
      instance.database?.query("SELECT 1"),
      instance.database?.query("SELECT 1"),
    ]),
  );
}

function totalStatements(instances: readonly StepInstance[]): number {
  return instances.reduce((sum, instance) => sum + instance.statementsSent(), 0);
}

async function countJobs(instance: StepInstance | undefined): Promise<number> {
  const counts = (await instance?.counts()) ?? {};
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

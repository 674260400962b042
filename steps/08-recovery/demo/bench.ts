/**
 * `npm run step 08 -- bench`: `kill -9` of a worker process in the middle of
 * its jobs, on steps 04, 05, 07 and 08 in the same run — how many jobs each
 * loses, leaves stuck or runs twice, and how long until the killed worker's
 * jobs are done.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { StepInstance } from "../../../lib/step.ts";
import { runWorkerAndKill } from "../../../lib/workshop/bench/kill-worker.ts";
import { RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import { median } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

interface Settings {
  readonly jobs: number;
  readonly sleepMs: number;
  readonly concurrency: number;
  /** The worker process is killed once it has finished this many jobs: it is busy, mid-batch. */
  readonly killAfterFinished: number;
  /** After the kill, no job finished for this long and none waiting: the rest will never run. */
  readonly quietMs: number;
  /**
   * Heartbeat interval and alive threshold of both workers, for the steps
   * that have them (the defaults are 10 s and 60 s): with no supervisor
   * watching, the threshold is how the healthy worker learns the other died.
   */
  readonly heartbeatIntervalMs: number;
  readonly aliveThresholdMs: number;
  readonly rounds: number;
  readonly timeoutMs: number;
}

const FULL: Settings = {
  jobs: 200,
  sleepMs: 200,
  concurrency: 10,
  killAfterFinished: 40,
  quietMs: 5_000,
  heartbeatIntervalMs: 1_000,
  aliveThresholdMs: 5_000,
  rounds: 3,
  timeoutMs: 120_000,
};
const QUICK: Settings = {
  ...FULL,
  jobs: 40,
  sleepMs: 100,
  concurrency: 5,
  killAfterFinished: 5,
  rounds: 1,
};

/** The steps compared, each in a namespace of this benchmark's own. */
const RUNS = [
  { step: "04", namespace: "bench08_vs04" },
  { step: "05", namespace: "bench08_vs05" },
  { step: "07", namespace: "bench08_vs07" },
  { step: "08", namespace: "bench08" },
] as const;

/** One kill, accounted for. Every job is in exactly one of done, lost or stuck. */
interface CrashResult {
  /** The jobs the killed worker had taken and not finished. */
  readonly held: number;
  /** Finished (or failed for good) by anyone. */
  readonly done: number;
  /** Never done, and nowhere to be found: gone from the queue. */
  readonly lost: number;
  /** Never done, and still claimed by the dead worker. */
  readonly stuck: number;
  /** Started again after the kill by the healthy worker. */
  readonly ranTwice: number;
  /** Held by the killed worker, and done by the healthy one afterwards. */
  readonly recovered: number;
  /** From the kill until every job was done; `null` if some never were. */
  readonly recoveryMs: number | null;
}

export async function runBenchmark({
  open,
  out,
  quick,
  saveResults,
  saveChart,
}: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 08 benchmark — kill -9 in the middle of the work, 04, 05, 07 and 08");
  say(
    out,
    `${settings.jobs} jobs that sleep ${settings.sleepMs} ms; a worker process with ` +
      `${settings.concurrency} slots gets SIGKILL once it has finished ${settings.killAfterFinished}, ` +
      "then a healthy worker takes over (step defaults, but a heartbeat every " +
      `${settings.heartbeatIntervalMs / 1000} s and an alive threshold of ${settings.aliveThresholdMs / 1000} s ` +
      "for both workers, where the step has them). Held: the jobs the killed worker had taken " +
      "and not finished. Every job ends up done, lost (gone from the queue) or stuck (claimed by " +
      "the dead worker); ran twice: started before the kill and again after it; recovery: from " +
      "the kill until every job was done. " +
      `${settings.rounds} round(s), interleaved, median reported.`,
  );
  const instances = await Promise.all(RUNS.map((run) => open(run)));
  const results: CrashResult[][] = RUNS.map(() => []);
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, instance] of instances.entries()) {
        out.line(`  round ${round + 1}: step ${instance.step.id}…`);
        results[index]?.push(await measureCrash(instance, settings));
      }
    }
  } finally {
    await Promise.all(instances.map((instance) => instance.close()));
  }
  const medianOf = (index: number, pick: (result: CrashResult) => number) =>
    median((results[index] ?? []).map(pick));
  const recoveryOf = (index: number): number | null => {
    const times = (results[index] ?? []).map((result) => result.recoveryMs);
    return times.every((time) => time !== null) ? median(times) : null;
  };
  const rows = RUNS.map((run, index) => [
    `${run.step} ${instances[index]?.step.slug ?? ""}`,
    formatNumber(medianOf(index, (result) => result.held)),
    formatNumber(medianOf(index, (result) => result.lost)),
    formatNumber(medianOf(index, (result) => result.stuck)),
    formatNumber(medianOf(index, (result) => result.ranTwice)),
    formatNumber(medianOf(index, (result) => result.recovered)),
    recoveryOf(index) === null ? "never" : `${formatNumber((recoveryOf(index) ?? 0) / 1000)} s`,
  ]);
  out.line("");
  for (const line of renderTable(
    ["step", "held", "lost", "stuck", "ran twice", "recovered", "recovery"],
    rows,
  ))
    out.line(`  ${line}`);
  say(
    out,
    "Step 08's recovery time is the alive threshold (the killed worker's heartbeat has to go " +
      "stale), then at most one heartbeat interval until the healthy worker prunes it, then the " +
      "default retry backoff (10 s, up to ×1.5 jitter): the interrupted attempt counts as a " +
      "failed one. Under a supervisor, which sees its worker exit, the threshold drops out.",
  );
  await saveResults("step-08", settings, { steps: RUNS.map((run) => run.step), results });
  await saveChart("crash.svg", {
    title: "kill -9 of a busy worker: what became of the jobs it held",
    valueLabel: "jobs",
    categories: RUNS.map((run, index) => ({
      label: `${run.step} ${instances[index]?.step.slug ?? ""}`,
      colour: ["#4e79a7", "#f28e2b", "#e15759", "#59a14f"][index] ?? "#888",
      highlight: run.step === "08",
    })),
    series: [
      { label: "lost", values: RUNS.map((_, i) => medianOf(i, (r) => r.lost)) },
      { label: "stuck", values: RUNS.map((_, i) => medianOf(i, (r) => r.stuck)) },
      { label: "ran twice", values: RUNS.map((_, i) => medianOf(i, (r) => r.ranTwice)) },
      { label: "recovered", values: RUNS.map((_, i) => medianOf(i, (r) => r.recovered)) },
    ],
  });
}

async function measureCrash(instance: StepInstance, settings: Settings): Promise<CrashResult> {
  await instance.reset();
  const ids = await instance.enqueueMany(
    Array.from({ length: settings.jobs }, () => ({
      name: "Sleep",
      args: { ms: settings.sleepMs },
    })),
  );
  const { startedThere, killedAt } = await runWorkerAndKill(instance, {
    concurrency: settings.concurrency,
    killAfterFinished: settings.killAfterFinished,
    timeoutMs: settings.timeoutMs,
    args: [
      "--heartbeat-interval",
      String(settings.heartbeatIntervalMs),
      "--alive-threshold",
      String(settings.aliveThresholdMs),
    ],
  });
  const countsAtKill = await instance.counts();
  // Claimed by it (steps with claims), or taken from the list and not
  // finished (04, where a taken job is in no list at all).
  const held =
    countsAtKill.claimed ?? ids.length - doneIn(countsAtKill) - (countsAtKill.queued ?? 0);

  // A healthy worker, with the step's defaults, takes over until every job
  // is done — or nothing has finished for a while and nothing waits.
  const tracker = new RunTracker(instance.events);
  const doneAt = new Map<string, number>();
  const unsubscribe = (["finished", "failed"] as const).map((event) =>
    instance.events.on(event, (e) => doneAt.set(e.jobId, e.at)),
  );
  const healthy = instance.startWorker({
    concurrency: settings.concurrency,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
  });
  const deadline = Date.now() + settings.timeoutMs;
  let lastDone = Date.now();
  let doneSoFar = 0;
  while (Date.now() < deadline) {
    await sleep(100);
    const counts = await instance.counts();
    const done = doneIn(counts);
    if (done === ids.length) break;
    if (done > doneSoFar) [doneSoFar, lastDone] = [done, Date.now()];
    const waiting = (counts.queued ?? 0) + (counts.ready ?? 0) + (counts.scheduled ?? 0);
    if (waiting === 0 && Date.now() - lastDone > settings.quietMs) break;
  }
  await healthy.stop();
  for (const off of unsubscribe) off();
  tracker.stop();

  // Done, by the database rather than by the workers' lines: a job the
  // killed worker finished just before the kill, whose line it never got to
  // print, is done, not lost. (The namespace holds only these jobs: it was
  // reset before they were enqueued.)
  const countsAfter = await instance.counts();
  const done = doneIn(countsAfter);
  const stuck = countsAfter.claimed ?? 0;
  const lost = ids.length - done - stuck;
  return {
    held,
    done,
    lost,
    stuck,
    ranTwice: [...startedThere].filter((id) => tracker.firstStart(id) !== undefined).length,
    // Every job the killed worker did not hold was done by the healthy one.
    recovered: Math.max(0, held - lost - stuck),
    recoveryMs: done === ids.length ? Math.max(killedAt, ...doneAt.values()) - killedAt : null,
  };
}

/** Jobs finished or in the dead queue. */
function doneIn(counts: Readonly<Record<string, number>>): number {
  return (counts.finished ?? 0) + (counts.failed ?? 0);
}

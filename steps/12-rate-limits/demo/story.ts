// Unchanged from step 08: steps/08-recovery/demo/story.ts
/**
 * `npm run step 08`: a supervisor with three worker processes under load,
 * workers killed with `kill -9` at random, and the counts at the end; a
 * poison job that kills every worker that runs it, buried after three
 * attempts; a SIGTERM that releases what cannot finish in time.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Output, StepInstance, Supervisor } from "../../../lib/step.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

/** A breath between scenes, so the reader can follow. */
const PAUSE_MS = 1_000;
const JOBS = 2_000;
const KILLS = 4;
/** Between two kills: long enough for the killed worker's jobs to come back before the next. */
const KILL_EVERY_MS = 1_000;
/** Retries half a second apart (the real default starts at 10 s), so recovery shows within the story. */
const STORY_BACKOFF = { baseMs: 500, maxMs: 2_000, jitter: 0 };
const WORKER_ARGS = [
  "--concurrency",
  "5",
  "--retry-backoff",
  `${STORY_BACKOFF.baseMs},${STORY_BACKOFF.maxMs},${STORY_BACKOFF.jitter}`,
  "--shutdown-timeout",
  "1000",
];

/**
 * One supervisor for the whole story (starting three worker processes takes
 * seconds): each scene says which of its lines to show, and the last scene
 * stops it with SIGTERM.
 */
interface Crew {
  /** Sends SIGTERM to every worker, waits for them to exit, deregisters; once. */
  stop(): Promise<void>;
  /** Worker processes that are running and have started a job: the ones worth killing. */
  readonly busy: Set<number>;
  /** What the current scene does with each line of the supervisor and its workers. */
  show: (line: string) => void;
}

export async function runStory({ open, out }: RunContext): Promise<void> {
  const instance = await open({ namespace: "story_08" });
  try {
    await instance.reset();
    heading(out, "Step 08 — recovery: kill -9 at random, and nothing is lost");
    say(
      out,
      "Step 06 noticed dead workers; step 07 retried jobs that threw. Step 08 puts the two " +
        "together: the jobs a dead process had claimed go back through the retry path, the " +
        "interrupted attempt counted. A supervisor runs three worker processes; we kill them " +
        "with SIGKILL while they work, and count.",
    );
    const crew = await supervise(instance);
    try {
      await showChaos(out, instance, crew);
      await sleep(PAUSE_MS);
      await showPoisonJob(out, instance, crew);
      await sleep(PAUSE_MS);
      await showGracefulShutdown(out, instance, crew);
    } finally {
      await crew.stop(); // if a scene failed before the last one stopped it
    }
    heading(out, "What step 08 promises, exactly");
    say(
      out,
      "At-least-once: every job runs to the end at least once, or lands in the dead queue with " +
        "the reason. A job runs twice when its worker died (or was taken for dead) after the job " +
        "started and before its outcome was recorded. So write jobs that can run twice: make " +
        "their effect idempotent — an upsert keyed on the job, a unique constraint, a check " +
        "before the side effect. The lesson shows one.",
    );
    await instance.reset();
  } finally {
    await instance.close();
  }
}

async function supervise(instance: StepInstance): Promise<Crew> {
  if (!instance.supervise) throw new Error("Step 08 has a supervisor.");
  const busy = new Set<number>();
  const crew = { busy, show: (_line: string) => {} };
  const supervisor: Supervisor = await instance.supervise({
    processes: 3,
    workerArgs: WORKER_ARGS,
    retryBackoff: STORY_BACKOFF,
    heartbeatIntervalMs: 1_000,
    aliveThresholdMs: 5_000,
    out: {
      line: (text = "") => {
        const running = /^\[worker (\d+)\] .*▶ job/.exec(text);
        if (running) busy.add(Number(running[1]));
        const exited = /supervisor: worker (\d+) exited/.exec(text);
        if (exited) busy.delete(Number(exited[1]));
        crew.show(text);
      },
    },
  });
  let stopped: Promise<void> | undefined;
  return Object.assign(crew, {
    stop: () => {
      stopped ??= supervisor.stop("SIGTERM");
      return stopped;
    },
  });
}

/**
 * What became of a killed worker, from the supervisor's "process … is dead;
 * job 12 (Sleep) → retry, …" line: what it held ("it held jobs 12, 13"),
 * and what the supervisor did ("it saw the exit, pruned the process at once
 * and sent both back to be retried").
 */
function describeRecovery(jobList: string | undefined): [string, string] {
  if (jobList === undefined) return ["", "the supervisor has not pruned it yet"];
  const retried = [...jobList.matchAll(/job (\d+) \([^)]*\) → retry/g)].map((m) => m[1]);
  const buried = [...jobList.matchAll(/job (\d+) \([^)]*\) → dead queue/g)].map((m) => m[1]);
  const held = [...retried, ...buried];
  const pruned = "the supervisor saw it exit and pruned it at once";
  if (held.length === 0) return ["it held no jobs", pruned];
  const all = held.length === 1 ? "it" : held.length === 2 ? "both" : `all ${held.length}`;
  const sentBack =
    buried.length === 0
      ? `sent ${all} back to be retried`
      : `sent ${count(retried.length, "job")} back to be retried and ${count(buried.length, "job")}, out of attempts, to the dead queue`;
  return [
    `it held ${held.length === 1 ? "job" : "jobs"} ${held.join(", ")}`,
    `${pruned}, and ${sentBack}`,
  ];
}

/** "1 job", "2 jobs". */
function count(n: number, noun: string): string {
  return `${formatNumber(n)} ${noun}${n === 1 ? "" : "s"}`;
}

async function showChaos(out: Output, instance: StepInstance, crew: Crew): Promise<void> {
  heading(out, `${formatNumber(JOBS)} jobs, three worker processes, ${KILLS} × kill -9`);
  const ids = await instance.enqueueMany(
    Array.from({ length: JOBS }, (_, i) => ({ name: "Sleep", args: { ms: 20 + (i % 30) } })),
  );
  const starts = new Map<string, number>();
  /** The "process … is dead" line of each killed pid, once the supervisor has pruned it. */
  const recoveries = new Map<number, string>();
  const recovered = new Set<string>();
  crew.show = (line) => {
    const started = /▶ job (\d+) /.exec(line)?.[1];
    if (started) starts.set(started, (starts.get(started) ?? 0) + 1);
    const dead = /^supervisor: process \d+ \([^)]*:(\d+)\) is dead; (.*)$/.exec(line);
    if (dead) {
      recoveries.set(Number(dead[1]), dead[2] ?? "");
      for (const [, jobId] of (dead[2] ?? "").matchAll(/job (\d+)/g)) recovered.add(jobId ?? "");
    }
  };
  // Kill only busy workers: a replacement that is still starting holds nothing to recover.
  await until(
    async () => crew.busy.size === 3 && ((await instance.counts()).finished ?? 0) >= 100,
    30_000,
  );
  let kills = 0;
  for (; kills < KILLS; kills++) {
    await until(async () => crew.busy.size > 0, 10_000);
    const victims = [...crew.busy];
    const victim = victims[Math.floor(Math.random() * victims.length)];
    const { finished } = await instance.counts();
    if (victim === undefined || finished === JOBS) break;
    process.kill(victim, "SIGKILL");
    crew.busy.delete(victim);
    await until(async () => recoveries.has(victim), 10_000);
    const [held, fate] = describeRecovery(recoveries.get(victim));
    out.line(
      `  kill -9 ${victim} (${formatNumber(finished ?? 0)} of ${formatNumber(JOBS)} finished): ${held}`,
    );
    out.line(`    → ${fate}`);
    await sleep(KILL_EVERY_MS);
  }
  await until(async () => (await instance.counts()).finished === JOBS, 60_000);
  crew.show = () => {};
  const counts = await instance.counts();
  const twice = [...starts.entries()].filter(([, n]) => n > 1).map(([id]) => id);
  out.line("");
  for (const line of renderTable(
    ["enqueued", "finished", "ready", "scheduled", "claimed", "dead queue", "ran twice"],
    [
      [
        formatNumber(ids.length),
        formatNumber(counts.finished ?? 0),
        formatNumber(counts.ready ?? 0),
        formatNumber(counts.scheduled ?? 0),
        formatNumber(counts.claimed ?? 0),
        formatNumber(counts.failed ?? 0),
        formatNumber(twice.length),
      ],
    ],
  ))
    out.line(`  ${line}`);
  const allRecovered = twice.every((id) => recovered.has(id));
  say(
    out,
    counts.finished !== JOBS
      ? "Not every job finished within a minute: the counts above show where the rest are."
      : `Every job finished; nothing waits and nothing is held. After ${count(kills, "kill")}, ` +
          `recovery sent ${count(recovered.size, "job")} back through the retry path, and ` +
          `${count(twice.length, "job")} ran twice` +
          (allRecovered
            ? `: ${twice.length === 1 ? "it was" : "each was"} running in a worker the moment it was killed, ` +
              "and its first run never recorded an outcome. (A job sent back that had not started " +
              "yet — claimed, not begun — ran once.)"
            : ", not all of them sent back by recovery: look at the worker output."),
  );
}

/** Polls `condition` every 100 ms until it holds or `timeoutMs` passes (the counts then tell). */
async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition()) && Date.now() < deadline) await sleep(100);
}

async function showPoisonJob(out: Output, instance: StepInstance, crew: Crew): Promise<void> {
  heading(out, "A poison job: it kills every worker that runs it");
  say(
    out,
    "KillsItsWorker sends SIGKILL to its own process, as a crash in native code or the " +
      "out-of-memory killer would. If the death did not count as an attempt, it would take " +
      "down a worker every few seconds, for ever. It has three attempts.",
  );
  crew.show = (line) => {
    if (/^supervisor: (worker \d+ exited|process \d+ .* is dead)/.test(line)) out.line(`  ${line}`);
  };
  const id = await instance.enqueue("KillsItsWorker", {});
  const buried = async () => ((await instance.failedJobs?.()) ?? []).find((j) => j.jobId === id);
  await until(async () => (await buried()) !== undefined, 30_000);
  crew.show = () => {};
  const job = await buried();
  out.line("");
  out.line(
    job
      ? `  dead queue: job ${id} after ${job.attempts} attempts — ${job.error}`
      : `  job ${id} is not in the dead queue after 30 s: ${JSON.stringify(await instance.counts())}`,
  );
  say(
    out,
    "Three workers died, and the supervisor replaced each; then the job stopped coming back. " +
      "It waits in the dead queue (npm run step 08 -- failed) for someone to read why.",
  );
}

async function showGracefulShutdown(
  out: Output,
  instance: StepInstance,
  crew: Crew,
): Promise<void> {
  heading(out, "SIGTERM: finish what can finish, release the rest");
  say(
    out,
    "A deploy stops workers with SIGTERM, and a few seconds later with SIGKILL. Each worker " +
      "stops claiming, lets its running jobs finish for its shutdown timeout (one second here), " +
      "then gives the claims of the jobs still running back to ready — so another worker runs " +
      "them now, rather than after this one is found dead.",
  );
  const before = await instance.counts();
  const started = new Set<string>();
  crew.show = (line) => {
    const id = /▶ job (\d+) /.exec(line)?.[1];
    if (id) started.add(id);
    if (/[▶✓↩] job|SIGTERM/.test(line))
      out.line(`  ${line.replace(/^\[worker (\d+)\] \S+ +/, "[worker $1] ")}`);
  };
  const long = await instance.enqueueMany([
    { name: "Sleep", args: { ms: 60_000 } },
    { name: "Sleep", args: { ms: 60_000 } },
  ]);
  await instance.enqueueMany(
    Array.from({ length: 10 }, () => ({ name: "Sleep", args: { ms: 300 } })),
  );
  await until(async () => long.every((id) => started.has(id)) && started.size >= 6, 30_000);
  out.line("  — SIGTERM —");
  await crew.stop();
  crew.show = () => {};
  const after = await instance.counts();
  out.line("");
  out.line(
    `  after the stop: ${(after.finished ?? 0) - (before.finished ?? 0)} of these 12 finished, ` +
      `${after.ready} back in ready, ${after.claimed} claimed`,
  );
}

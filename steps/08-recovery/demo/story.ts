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
const PAUSE_MS = 1_200;
const JOBS = 3_000;
const KILLS = 5;
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
    await sleep(PAUSE_MS);
    await showChaos(out, instance);
    await sleep(PAUSE_MS);
    await showPoisonJob(out, instance);
    await sleep(PAUSE_MS);
    await showGracefulShutdown(out, instance);
    heading(out, "What step 08 promises, exactly");
    say(
      out,
      "At-least-once: every job runs to the end at least once, or lands in the dead queue with " +
        "the reason. A job runs twice when its worker died (or was taken for dead) after the job " +
        "started and before its outcome was recorded. So write jobs that can run twice: make " +
        "their effect idempotent — an upsert keyed on the job, a unique constraint, a check " +
        "before the side effect. The lesson shows one.",
    );
  } finally {
    await instance.close();
  }
}

/**
 * Starts a supervisor whose output goes through `show`: the story prints
 * what recovery and the supervisor say, not every job of every worker.
 */
async function supervise(
  instance: StepInstance,
  show: (line: string) => void,
): Promise<{ supervisor: Supervisor; workerPids: Set<number> }> {
  if (!instance.supervise) throw new Error("Step 08 has a supervisor.");
  const workerPids = new Set<number>();
  const supervisor = await instance.supervise({
    processes: 3,
    workerArgs: WORKER_ARGS,
    retryBackoff: STORY_BACKOFF,
    heartbeatIntervalMs: 1_000,
    aliveThresholdMs: 5_000,
    out: {
      line: (text = "") => {
        const started = /supervisor: started worker process (\d+)/.exec(text);
        if (started) workerPids.add(Number(started[1]));
        const exited = /supervisor: worker (\d+) exited/.exec(text);
        if (exited) workerPids.delete(Number(exited[1]));
        show(text);
      },
    },
  });
  return { supervisor, workerPids };
}

async function showChaos(out: Output, instance: StepInstance): Promise<void> {
  heading(out, `${formatNumber(JOBS)} jobs, three worker processes, ${KILLS} × kill -9`);
  const ids = await instance.enqueueMany(
    Array.from({ length: JOBS }, (_, i) => ({ name: "Sleep", args: { ms: 20 + (i % 30) } })),
  );
  const starts = new Map<string, number>();
  const { supervisor, workerPids } = await supervise(instance, (line) => {
    const started = /▶ job (\d+) /.exec(line)?.[1];
    if (started) starts.set(started, (starts.get(started) ?? 0) + 1);
    if (/^supervisor: (worker \d+ exited|process \d+ .* is dead)/.test(line)) {
      out.line(`  ${line}`);
    }
  });
  try {
    // Kill only once the workers are up and busy (a worker process takes a second or two to start).
    await until(async () => ((await instance.counts()).finished ?? 0) >= 100, 60_000);
    for (let kill = 1; kill <= KILLS; kill++) {
      await sleep(1_500);
      const victims = [...workerPids];
      const victim = victims[Math.floor(Math.random() * victims.length)];
      if (victim === undefined) continue;
      const { finished } = await instance.counts();
      out.line(
        `  ${formatNumber(finished ?? 0)} of ${formatNumber(JOBS)} finished — kill -9 ${victim}`,
      );
      process.kill(victim, "SIGKILL");
    }
    await until(async () => (await instance.counts()).finished === JOBS, 120_000);
  } finally {
    await supervisor.stop("SIGTERM");
  }
  const counts = await instance.counts();
  const twice = [...starts.values()].filter((n) => n > 1).length;
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
        formatNumber(twice),
      ],
    ],
  ))
    out.line(`  ${line}`);
  say(
    out,
    counts.finished === JOBS
      ? `Every job finished; nothing waits and nothing is held. The ${twice} that ran twice were ` +
          "running in a worker the moment it was killed: their first run never recorded an outcome."
      : "Not every job finished within two minutes: the counts above show where the rest are.",
  );
}

/** Polls `condition` every 100 ms until it holds or `timeoutMs` passes (the counts then tell). */
async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition()) && Date.now() < deadline) await sleep(100);
}

async function showPoisonJob(out: Output, instance: StepInstance): Promise<void> {
  heading(out, "A poison job: it kills every worker that runs it");
  say(
    out,
    "KillsItsWorker sends SIGKILL to its own process, as a crash in native code or the " +
      "out-of-memory killer would. If the death did not count as an attempt, it would take " +
      "down a worker every few seconds, for ever. It has three attempts.",
  );
  await instance.reset();
  const { supervisor } = await supervise(instance, (line) => {
    if (/^supervisor: (worker \d+ exited|process \d+ .* is dead)/.test(line)) {
      out.line(`  ${line}`);
    }
  });
  try {
    const id = await instance.enqueue("KillsItsWorker", {});
    const buried = async () => ((await instance.failedJobs?.()) ?? []).find((j) => j.jobId === id);
    await until(async () => (await buried()) !== undefined, 60_000);
    const job = await buried();
    out.line("");
    out.line(
      job
        ? `  dead queue: job ${id} after ${job.attempts} attempts — ${job.error}`
        : `  job ${id} is not in the dead queue after a minute: ${JSON.stringify(await instance.counts())}`,
    );
  } finally {
    await supervisor.stop("SIGTERM");
  }
  say(
    out,
    "Three workers died, and the supervisor replaced each; then the job stopped coming back. " +
      "It waits in the dead queue (npm run step 08 -- failed) for someone to read why.",
  );
}

async function showGracefulShutdown(out: Output, instance: StepInstance): Promise<void> {
  heading(out, "SIGTERM: finish what can finish, release the rest");
  say(
    out,
    "A deploy stops workers with SIGTERM, and a few seconds later with SIGKILL. Each worker " +
      "stops claiming, lets its running jobs finish for its shutdown timeout (one second here), " +
      "then gives the claims of the jobs still running back to ready — so another worker runs " +
      "them now, rather than after this one is found dead.",
  );
  await instance.reset();
  const long = await instance.enqueueMany([
    { name: "Sleep", args: { ms: 60_000 } },
    { name: "Sleep", args: { ms: 60_000 } },
  ]);
  await instance.enqueueMany(
    Array.from({ length: 10 }, () => ({ name: "Sleep", args: { ms: 300 } })),
  );
  const started = new Set<string>();
  const { supervisor } = await supervise(instance, (line) => {
    const id = /▶ job (\d+) /.exec(line)?.[1];
    if (id) started.add(id);
    if (/[▶✓↩] job|SIGTERM/.test(line))
      out.line(`  ${line.replace(/^\[worker (\d+)\] \S+ +/, "[worker $1] ")}`);
  });
  await until(async () => long.every((id) => started.has(id)) && started.size >= 6, 60_000);
  out.line("  — SIGTERM —");
  await supervisor.stop("SIGTERM");
  const counts = await instance.counts();
  out.line("");
  out.line(
    `  after the stop: ${counts.finished} finished, ${counts.ready} back in ready, ${counts.claimed} claimed`,
  );
  await instance.reset();
}

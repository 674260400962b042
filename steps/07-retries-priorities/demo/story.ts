/**
 * `npm run step 07`: a flaky job retried with growing waits until it
 * succeeds; a broken one in the dead queue, retried once it is fixed; a job
 * scheduled for later; an urgent job overtaking a backlog (06 against 07);
 * a job that never returns, timed out.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { now } from "../../../lib/events.ts";
import { defineJob } from "../../../lib/jobs/job.ts";
import { JobRegistry } from "../../../lib/jobs/registry.ts";
import type { Output, StepInstance } from "../../../lib/step.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

/** A breath between scenes, so the reader can follow. */
const PAUSE_MS = 1_200;
/** Waits short enough for a story: 400 ms, 800 ms, 1.6 s … (the real default starts at 10 s). */
const STORY_BACKOFF = { baseMs: 400, maxMs: 5_000, jitter: 0.5 };
const BACKLOG = 2_000;

export async function runStory({ open, out }: RunContext): Promise<void> {
  const instance = await open({ namespace: "story_07" });
  try {
    await instance.reset();
    heading(out, "Step 07 — retries, a dead queue, scheduled jobs, priorities");
    say(
      out,
      "Until now a job that threw was recorded as failed, and that was the end of it. A job that " +
        "failed because a partner's API blinked deserves another try — later, and later still if it " +
        "fails again. One that keeps failing should end somewhere a person can look at it.",
    );
    await sleep(PAUSE_MS);
    await showRetries(out, instance);
    await sleep(PAUSE_MS);
    await showScheduled(out, instance);
    await sleep(PAUSE_MS);
    await showPriorities(out, open, instance);
    await sleep(PAUSE_MS);
    await showTimeout(out, instance);
    await sleep(PAUSE_MS);

    heading(out, "Still wrong, and where it gets fixed");
    say(
      out,
      "• a worker killed mid-job still leaves its claims behind: step 06 notices that it is dead, " +
        "but nobody puts its jobs back — recovery is manual → step 08 prunes dead processes and sends " +
        "their jobs through the retry path",
    );
    say(
      out,
      "• a timed-out job may still be running (a timeout stops the waiting, not the job), and its " +
        "retry may run next to it: retried jobs must be safe to run twice (step 08)",
    );
    out.line("");
    say(out, "Read steps/07-retries-priorities/README.md, then: npm run step 07 -- bench");
  } finally {
    await instance.close();
  }
}

/** The story's own jobs: a payment that fails twice, a broken export, a job that hangs. */
function storyJobs(state: { exportFixed: boolean }): JobRegistry {
  return new JobRegistry([
    defineJob<{ orderId: number }>({
      name: "ChargeCard",
      description: "fails twice (the provider times out), then succeeds",
      exampleArguments: { orderId: 1 },
      perform(_args, { attempt }) {
        if (attempt <= 2) throw new Error("payment provider timed out");
      },
    }),
    defineJob<{ month: string }>({
      name: "ExportInvoices",
      description: "throws until the story fixes it",
      exampleArguments: { month: "2026-11" },
      maxAttempts: 3,
      perform() {
        if (!state.exportFixed) throw new RangeError("invalid date in row 12: 2026-11-31");
      },
    }),
    defineJob({
      name: "Hang",
      description: "never returns",
      exampleArguments: {},
      maxAttempts: 1,
      timeoutMs: 1_000,
      perform: () => new Promise<void>(() => {}),
    }),
    defineJob({
      name: "Noop",
      description: "does nothing",
      exampleArguments: {},
      perform() {},
    }),
  ]);
}

/** Prints every attempt of the story's jobs as it happens, with the time since the scene began. */
function narrate(out: Output, instance: StepInstance): () => void {
  const start = now();
  const t = (at: number) => `${formatNumber((at - start) / 1000).padStart(6)} s`;
  const offs = [
    instance.events.on("started", (e) => out.line(`  ${t(e.at)}  ▶ job ${e.jobId} ${e.name}`)),
    instance.events.on("finished", (e) => out.line(`  ${t(e.at)}  ✓ job ${e.jobId} finished`)),
    instance.events.on("retrying", (e) =>
      out.line(
        `  ${t(e.at)}  ↻ job ${e.jobId} attempt ${e.attempt} failed (${e.error}); retry in ${formatNumber((e.retryAt - e.at) / 1000)} s`,
      ),
    ),
    instance.events.on("failed", (e) =>
      out.line(`  ${t(e.at)}  ✗ job ${e.jobId} failed for good: ${e.error}`),
    ),
  ];
  return () => {
    for (const off of offs) off();
  };
}

function waitFor(instance: StepInstance, event: "finished" | "failed", jobId: string) {
  return new Promise<void>((resolve) => {
    const off = instance.events.on(event, (e) => {
      if (e.jobId !== jobId) return;
      off();
      resolve();
    });
  });
}

async function showRetries(out: Output, instance: StepInstance): Promise<void> {
  heading(out, "A flaky job, retried with growing waits");
  const state = { exportFixed: false };
  const registry = storyJobs(state);
  const worker = instance.startWorker({
    registry,
    retryBackoff: STORY_BACKOFF,
    dispatchIntervalMs: 50,
  });
  say(
    out,
    "ChargeCard fails twice, then succeeds. Each failure schedules the next attempt after a wait " +
      "that doubles (stretched by up to 50 % of random jitter, so a thousand jobs that failed together " +
      "do not all come back together). The story uses 400 ms as the first wait; the default is 10 s.",
  );
  out.line("");
  const stop = narrate(out, instance);
  const charge = await instance.enqueue("ChargeCard", { orderId: 7 });
  await waitFor(instance, "finished", charge);
  stop();
  await sleep(PAUSE_MS);

  heading(out, "A broken job ends in the dead queue, and is retried once fixed");
  say(
    out,
    "ExportInvoices has a bug: it throws every time. It may have 3 attempts; after the third it " +
      "moves to failed_executions — the dead queue — with its error, its stack and its attempt count:",
  );
  out.line("");
  const stopAgain = narrate(out, instance);
  const exportId = await instance.enqueue("ExportInvoices", { month: "2026-11" });
  await waitFor(instance, "failed", exportId);
  stopAgain();
  out.line("");
  out.line("  $ npm run step 07 -- failed");
  const dead = (await instance.failedJobs?.()) ?? [];
  for (const line of renderTable(
    ["job", "name", "attempts", "error"],
    dead.map((job) => [job.jobId, job.name, String(job.attempts), job.error]),
  ))
    out.line(`    ${line}`);
  const firstFrame = dead[0]?.stack?.split("\n")[1]?.trim();
  if (firstFrame) out.line(`    (stack: ${firstFrame} …)`);
  out.line("");
  say(
    out,
    "Nothing runs it again on its own. Someone reads the error, deploys a fix, and puts it back — " +
      "it gets a fresh set of attempts:",
  );
  state.exportFixed = true;
  out.line("");
  out.line(`  $ npm run step 07 -- retry ${exportId}`);
  const stopThird = narrate(out, instance);
  const finished = waitFor(instance, "finished", exportId);
  const revived = (await instance.retryFailedJobs?.([exportId])) ?? [];
  out.line(`    put back: ${revived.join(", ")}`);
  await finished;
  stopThird();
  await worker.stop();
}

async function showScheduled(out: Output, instance: StepInstance): Promise<void> {
  heading(out, "A job scheduled for later");
  const registry = storyJobs({ exportFixed: true });
  const worker = instance.startWorker({ registry, dispatchIntervalMs: 1_000 });
  const runAt = new Date(Date.now() + 2_000);
  const id = await instance.enqueue("Noop", {}, { runAt });
  say(
    out,
    `Job ${id} is enqueued to run in 2 s (npm run step 07 -- enqueue Noop --in 2s). It waits in ` +
      "scheduled_executions, not ready_executions, so no worker can take it early:",
  );
  out.line(`    counts now: ${JSON.stringify(await instance.counts())}`);
  const started = new Promise<number>((resolve) => {
    const off = instance.events.on("started", (e) => {
      if (e.jobId !== id) return;
      off();
      resolve(e.at);
    });
  });
  const at = await started;
  await sleep(100);
  await worker.stop();
  say(
    out,
    `It started ${formatNumber((at - runAt.getTime()) / 1000)} s after its time: the dispatcher ` +
      "(in the supervisor, or in a worker that runs without one) sleeps until the next scheduled job " +
      "it knows of is due, looks at least once a second, and moves due jobs to ready in batches, " +
      "with FOR UPDATE SKIP LOCKED — two dispatchers never move the same job. Retries wait the same " +
      "way: a retry is a job scheduled for later.",
  );
}

async function showPriorities(
  out: Output,
  open: RunContext["open"],
  instance: StepInstance,
): Promise<void> {
  heading(out, `An urgent job behind ${formatNumber(BACKLOG)} ordinary ones`);
  say(
    out,
    `${formatNumber(BACKLOG)} ordinary jobs are waiting and a worker with 5 slots is busy with them ` +
      "when one urgent job arrives. Step 06 serves jobs in the order they came; step 07 claims by " +
      "priority (lower first), then age, within the queues a worker serves. Both at once:",
  );
  const fifo = await open({ step: "06", namespace: "story_07_vs_06" });
  try {
    await fifo.reset();
    await instance.reset();
    const waits = await Promise.all([
      urgentPickup(fifo, {}),
      urgentPickup(instance, { priority: 0 }),
    ]);
    out.line("");
    for (const line of renderTable(
      ["step", "urgent job waited", "jobs started ahead of it"],
      waits.map((wait, index) => [
        index === 0 ? "06 (first come, first served)" : "07 (priority 0)",
        `${formatNumber(wait.ms)} ms`,
        String(wait.ahead),
      ]),
    ))
      out.line(`    ${line}`);
  } finally {
    await fifo.reset(); // its backlog, not needed any more
    await fifo.close();
  }
  out.line("");
  const [waiting] =
    (await instance.database?.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM ready_executions",
    )) ?? [];
  say(
    out,
    "The claim query reads the small ready table through an index in exactly its order — queue, " +
      `priority, job id — and stops after the jobs it takes, with ${formatNumber(waiting?.count ?? 0)} ` +
      "jobs still waiting (the plan after ANALYZE, which autovacuum runs soon after a table fills):",
  );
  await instance.database?.query("ANALYZE ready_executions");
  const plan =
    (await instance.database?.query<{ "QUERY PLAN": string }>(
      `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
       SELECT job_id FROM ready_executions WHERE queue_name = 'default'
       ORDER BY priority, job_id LIMIT 5 FOR UPDATE SKIP LOCKED`,
    )) ?? [];
  for (const row of plan) out.line(`    ${row["QUERY PLAN"]}`);
  await instance.reset();
}

/** Enqueues the backlog, waits until the worker is busy, enqueues one urgent job; how long it waited. */
async function urgentPickup(
  instance: StepInstance,
  urgent: { priority?: number },
): Promise<{ ms: number; ahead: number }> {
  const registry = storyJobs({ exportFixed: true });
  await instance.enqueueMany(Array.from({ length: BACKLOG }, () => ({ name: "Noop" })));
  // Every start, by job id: the urgent job may start before its enqueue returns.
  const startedAt = new Map<string, { at: number; index: number }>();
  instance.events.on("started", (e) => startedAt.set(e.jobId, { at: e.at, index: startedAt.size }));
  const worker = instance.startWorker({ registry, concurrency: 5 });
  while (startedAt.size < 100) await sleep(5);
  const startsAtEnqueue = startedAt.size;
  const enqueuedAt = now();
  const urgentId = await instance.enqueue("Noop", {}, urgent.priority === undefined ? {} : urgent);
  let start = startedAt.get(urgentId);
  while (start === undefined) {
    await sleep(5);
    start = startedAt.get(urgentId);
  }
  const result = { ms: start.at - enqueuedAt, ahead: start.index - startsAtEnqueue };
  await worker.stop();
  return result;
}

async function showTimeout(out: Output, instance: StepInstance): Promise<void> {
  heading(out, "A job that never returns");
  const registry = storyJobs({ exportFixed: true });
  const worker = instance.startWorker({ registry, concurrency: 1 });
  say(
    out,
    "Hang never returns; its timeout is 1 s. The worker has one slot. Without a timeout that slot " +
      "would be gone for good; with it, the attempt fails and the slot takes the next job:",
  );
  out.line("");
  const stop = narrate(out, instance);
  await instance.enqueue("Hang", {});
  const next = await instance.enqueue("Noop", {});
  await waitFor(instance, "finished", next);
  stop();
  await worker.stop();
  out.line("");
  say(
    out,
    "What the timeout stopped is the waiting, not the job: JavaScript cannot kill a function. The " +
      "hung promise, its sockets and timers live on in this process; a job stuck in a synchronous loop " +
      "would not even let the timer fire. A job that passes its AbortSignal on (to fetch, to timers) " +
      "does stop.",
  );
}

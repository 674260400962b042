/**
 * `npm run step 14`: a batch of jobs on three worker processes — some fail
 * once, some fail for good, some add more jobs to the batch — one worker
 * killed with `kill -9` in the middle, and exactly one callback with the
 * final counts; a batch sealed empty; a job added after the seal, refused.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Batches, NewJob, Output, StepInstance } from "../../../lib/step.ts";
import { spawnWorkerProcess, type WorkerProcess } from "../../../lib/worker-process.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";
import { batchJobs, CALLBACKS } from "./batch-jobs.ts";

const WORKER_SCRIPT = "steps/14-batches/demo/batch-worker.ts";
/** Three worker processes, 8 slots in all. */
const SLOTS = [3, 3, 2];
/** How long each member works: long enough to kill a worker in the middle of the batch. */
const WORK_MS = 150;

export async function runStory({ open, out }: RunContext): Promise<void> {
  const instance = await open({ namespace: "story_14" });
  const workers: WorkerProcess[] = [];
  try {
    await instance.reset();
    const batches = instance.batches;
    if (!batches) throw new Error("Step 14 has batches.");
    heading(out, "Step 14 — batches: a group of jobs, and one callback when the last is done");
    say(
      out,
      "An import of 40 rows is 40 jobs; the user wants one email when it is done, and to hear " +
        "which rows failed. A batch groups the jobs: create it with its callbacks (jobs " +
        "themselves), add the jobs, seal it. The finish that leaves a sealed batch with nothing " +
        "pending enqueues the callbacks, in its own transaction. Three worker processes, 8 " +
        "slots in all, start…",
    );
    for (const slots of SLOTS) workers.push(startWorker(instance, slots, out));
    await showBatch(out, instance, batches, workers);
    await sleep(500);
    await showSealRules(out, instance, batches);
    heading(out, "What step 14 promises, exactly");
    say(
      out,
      "Each callback is enqueued exactly once: by the one transaction that completes the batch " +
        "(or, for onDead, that buries its first dead job). Running it is a job like any other: " +
        "at-least-once, so a callback whose worker dies runs again — make it idempotent, as " +
        "step 08's lesson shows. A job counts once, by its final outcome. What it does not do: " +
        "a job that finds more work after the seal cannot add it to its batch, and one batch of " +
        "10,000 jobs makes its row hot (npm run step 14 -- bench).",
    );
  } finally {
    await Promise.all(
      workers.map((worker) => {
        worker.child.kill("SIGTERM");
        return worker.exited;
      }),
    );
    // Refused while the killed worker still looks alive (under 2 s); the next run resets first.
    await instance.reset().catch(() => {});
    await instance.close();
  }
}

/** A batch worker process (demo/batch-worker.ts); its callback lines are shown as they come. */
function startWorker(instance: StepInstance, slots: number, out: Output): WorkerProcess {
  const worker = spawnWorkerProcess({
    stepId: instance.step.id,
    namespace: instance.namespace,
    args: ["--concurrency", String(slots)],
    script: WORKER_SCRIPT,
  });
  worker.onLine((line) => {
    if (line.startsWith("★")) out.line(`  ${line}`);
  });
  return worker;
}

async function showBatch(
  out: Output,
  instance: StepInstance,
  batches: Batches,
  workers: WorkerProcess[],
): Promise<void> {
  heading(out, "40 jobs, one batch, one kill -9");
  const batch = await batches.create({ ...CALLBACKS, registry: batchJobs(instance) });
  const jobs: NewJob[] = [
    ...Array.from({ length: 2 }, () => ({
      name: "FanOut",
      args: { batchId: batch, children: 3, ms: WORK_MS },
    })),
    ...Array.from({ length: 4 }, () => ({ name: "FailsOnce", args: { ms: WORK_MS } })),
    ...Array.from({ length: 2 }, () => ({ name: "Doomed", args: { ms: WORK_MS } })),
    ...Array.from({ length: 26 }, () => ({ name: "Member", args: { ms: WORK_MS } })),
  ];
  // Two transactions, as an import adds its rows page by page.
  await batches.add(batch, jobs.slice(0, 17));
  await batches.add(batch, jobs.slice(17));
  say(
    out,
    `Batch ${batch}: 34 jobs added — 26 members, 4 that fail once and then succeed, 2 that ` +
      "fail for good (two attempts each), and 2 that add 3 more members each to their own batch " +
      "while they run. It is sealed once those two are done: nothing can be added after.",
  );
  await until(async () => (await fanOutsFinished(instance)) === 2, 30_000);
  await batches.seal(batch);
  // Kill a worker in the middle of the batch; a new one takes its place.
  await until(async () => ((await report(batches, batch))?.pending ?? 0) <= 25, 30_000);
  const victim = workers[0];
  if (victim?.child.pid !== undefined) {
    victim.child.kill("SIGKILL");
    await victim.exited;
    const held = await claimsOf(instance, victim.child.pid);
    out.line(`  kill -9 ${victim.child.pid}, which held ${held} job(s) of the batch.`);
    out.line(
      "  A new worker process starts; recovery sends the jobs back once the dead one's heartbeat is stale…",
    );
    workers[0] = startWorker(instance, SLOTS[0] ?? 1, out);
  }
  await until(async () => (await report(batches, batch))?.completedAt != null, 60_000);
  await until(async () => ((await instance.counts()).ready ?? 0) === 0, 10_000);
  await sleep(300); // the callback's line, from whichever worker ran it
  const final = await report(batches, batch);
  out.line("");
  for (const line of renderTable(
    ["batch", "total", "pending", "succeeded", "dead", "callbacks fired"],
    [
      [
        batch,
        String(final?.total),
        String(final?.pending),
        String(final?.succeeded),
        String(final?.dead),
        final?.callbacksFired.join(", ") ?? "",
      ],
    ],
  )) {
    out.line(`  ${line}`);
  }
  say(
    out,
    `${final?.total} jobs: the 34 added and the 6 the FanOuts added. Each counted once, by its ` +
      "final outcome — the jobs that failed once and were retried count as succeeded, and " +
      "those the kill interrupted count when they finish elsewhere. onDead came with the first " +
      "job to reach the dead queue; onFinish once, with the final counts; no onSuccess, as " +
      "two jobs went dead. npm run step 14 -- batches shows this table for your own batches.",
  );
}

async function showSealRules(out: Output, instance: StepInstance, batches: Batches): Promise<void> {
  heading(out, "Sealed: nothing pending completes at once, nothing can be added");
  const empty = await batches.create({
    onFinish: CALLBACKS.onFinish,
    registry: batchJobs(instance),
  });
  await batches.seal(empty);
  out.line(
    `  batch ${empty}, sealed with no jobs: ${(await report(batches, empty))?.completedAt ? "completed at once" : "not completed"}`,
  );
  await until(async () => ((await instance.counts()).ready ?? 0) === 0, 10_000);
  await sleep(300);
  try {
    await batches.add(empty, [{ name: "Member", args: { ms: 1 } }]);
    out.line("  a job added after the seal was stored: that is a bug");
  } catch (error) {
    out.line(`  adding to it now: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function report(batches: Batches, id: string) {
  return (await batches.list()).find((batch) => batch.id === id);
}

/** How many jobs the worker process `pid` has claimed. */
async function claimsOf(instance: StepInstance, pid: number): Promise<number> {
  const [row] = (await instance.database?.query<{ held: number }>(
    `SELECT count(*)::int AS held
     FROM claimed_executions AS claimed JOIN processes ON processes.id = claimed.process_id
     WHERE processes.pid = $1`,
    [pid],
  )) ?? [{ held: 0 }];
  return row?.held ?? 0;
}

async function fanOutsFinished(instance: StepInstance): Promise<number> {
  const [row] = (await instance.database?.query<{ done: number }>(
    "SELECT count(*)::int AS done FROM jobs WHERE name = 'FanOut' AND finished_at IS NOT NULL",
  )) ?? [{ done: 0 }];
  return row?.done ?? 0;
}

/** Polls `condition` every 100 ms until it holds or `timeoutMs` passes (the table then tells). */
async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition()) && Date.now() < deadline) await sleep(100);
}

/**
 * Step 14 under load, with real processes: two batches of 100 jobs each on
 * three worker processes (8 slots in all) — members that succeed, fail once
 * and then succeed, fail for good, or add more members before the seal —
 * first with healthy workers, then with workers SIGKILLed mid-batch. Each
 * test ends by accounting for every job of each batch, and for every
 * callback enqueued.
 */
import { describe, expect, it } from "vitest";
import type { Batches, NewJob, StepInstance } from "../../lib/step.ts";
import { openForTest } from "../../test/support/open.ts";
import { eventually } from "../../test/support/waiting.ts";
import { spawnWorker, type WorkerProcess } from "../../test/support/worker-process.ts";
import { batchJobs, CALLBACKS } from "./demo/batch-jobs.ts";
import { step } from "./index.ts";

const WORKER_SCRIPT = "steps/14-batches/demo/batch-worker.ts";
/** Three processes, 8 slots in all. */
const SLOTS = [3, 3, 2];
const FAN_OUTS = 10;
const CHILDREN_EACH = 3;

/**
 * 100 jobs: 10 that add 3 members each to their own batch, 10 that fail
 * once and then succeed, `doomed` that fail for good, and members.
 */
function hundredJobs(batchId: string, doomed: number, ms: number): NewJob[] {
  const jobs: NewJob[] = [];
  for (let i = 0; i < FAN_OUTS; i++) {
    jobs.push({ name: "FanOut", args: { batchId, children: CHILDREN_EACH, ms } });
  }
  for (let i = 0; i < 10; i++) jobs.push({ name: "FailsOnce", args: { ms } });
  for (let i = 0; i < doomed; i++) jobs.push({ name: "Doomed", args: { ms } });
  while (jobs.length < 100) jobs.push({ name: "Member", args: { ms } });
  return jobs;
}

function batchesOf(instance: StepInstance): Batches {
  if (!instance.batches) throw new Error("Step 14 has batches.");
  return instance.batches;
}

function sql(instance: StepInstance) {
  if (!instance.database) throw new Error("Step 14 has a database.");
  return instance.database;
}

/**
 * Creates batch A (with 10 jobs that fail for good) and batch B (none), adds
 * 100 jobs to each — A in one call, B in four — waits until every FanOut
 * has finished (so no job will add to them any more), and seals both.
 */
async function createAndSeal(instance: StepInstance, ms: number): Promise<[string, string]> {
  const batches = batchesOf(instance);
  const callbacks = { ...CALLBACKS, registry: batchJobs(instance) };
  const a = await batches.create(callbacks);
  const b = await batches.create(callbacks);
  await batches.add(a, hundredJobs(a, 10, ms));
  const jobsOfB = hundredJobs(b, 0, ms);
  for (let i = 0; i < jobsOfB.length; i += 25) await batches.add(b, jobsOfB.slice(i, i + 25));
  // Finished, or in the dead queue: either way it will not add again.
  await eventually(
    async () => {
      const [row] = await sql(instance).query<{ running: number }>(
        `SELECT count(*)::int AS running FROM jobs
         WHERE name = 'FanOut' AND finished_at IS NULL
           AND id NOT IN (SELECT job_id FROM failed_executions)`,
      );
      return row?.running === 0;
    },
    "every FanOut to be done",
    60_000,
  );
  await batches.seal(a);
  await batches.seal(b);
  return [a, b];
}

/** Every job of `batchId` by where it ended, and the callbacks enqueued for it, from the tables. */
async function accountFor(instance: StepInstance, batchId: string) {
  const [jobs] = await sql(instance).query<{ total: number; finished: number; dead: number }>(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE finished_at IS NOT NULL)::int AS finished,
            count(failed.job_id)::int AS dead
     FROM jobs LEFT JOIN failed_executions AS failed ON failed.job_id = jobs.id
     WHERE batch_id = $1`,
    [batchId],
  );
  const callbacks = await sql(instance).query<{ name: string; arguments: string }>(
    "SELECT name, arguments FROM jobs WHERE batch_id IS NULL AND arguments LIKE $1 ORDER BY id",
    [`{"batchId":"${batchId}",%`],
  );
  const report = (await batchesOf(instance).list()).find((batch) => batch.id === batchId);
  return {
    jobs,
    report,
    callbacks: callbacks.map((row) => ({
      name: row.name,
      args: JSON.parse(row.arguments) as Record<string, unknown>,
    })),
  };
}

/** What must hold of a batch, however its workers fared. */
async function expectAccountedFor(instance: StepInstance, batchId: string): Promise<void> {
  const { jobs, report, callbacks } = await accountFor(instance, batchId);
  // Every job added is counted once, where it ended.
  expect(report).toMatchObject({
    total: jobs?.total,
    pending: 0,
    succeeded: jobs?.finished,
    dead: jobs?.dead,
    sealed: true,
  });
  expect(report?.completedAt).toBeInstanceOf(Date);
  const final = { batchId, total: report?.total, succeeded: report?.succeeded, dead: report?.dead };
  // One onFinish, with the final counts; onSuccess only if none went dead;
  // onDead once if any did.
  const named = (name: string) => callbacks.filter((callback) => callback.name === name);
  expect(named(CALLBACKS.onFinish)).toEqual([
    { name: CALLBACKS.onFinish, args: { ...final, event: "finish" } },
  ]);
  expect(named(CALLBACKS.onSuccess)).toEqual(
    report?.dead === 0 ? [{ name: CALLBACKS.onSuccess, args: { ...final, event: "success" } }] : [],
  );
  expect(named(CALLBACKS.onDead)).toHaveLength(report?.dead === 0 ? 0 : 1);
}

function startWorkers(instance: StepInstance): WorkerProcess[] {
  return SLOTS.map((slots) =>
    spawnWorker(instance, ["--concurrency", String(slots)], WORKER_SCRIPT),
  );
}

/** Every job ran, and every callback enqueued has run. */
async function allDone(instance: StepInstance): Promise<boolean> {
  const counts = await instance.counts();
  const left = (counts.ready ?? 0) + (counts.scheduled ?? 0) + (counts.claimed ?? 0);
  const batches = await batchesOf(instance).list();
  return left === 0 && batches.every((batch) => batch.completedAt !== null);
}

async function stopAll(workers: readonly WorkerProcess[]): Promise<void> {
  for (const worker of workers) worker.child.kill("SIGTERM");
  await Promise.all(workers.map((worker) => worker.exited));
}

describe("step 14 — batches under load", () => {
  it("two batches of 100 on 3 processes: each calls back once, with its final counts; onSuccess only for the one with no dead job", async () => {
    const instance = await openForTest(step, "load");
    const workers = startWorkers(instance);
    try {
      const [a, b] = await createAndSeal(instance, 10);
      await eventually(() => allDone(instance), "both batches to finish", 60_000);
      await expectAccountedFor(instance, a);
      await expectAccountedFor(instance, b);
      const [reportA, reportB] = await batchesOf(instance).list();
      const total = 100 + FAN_OUTS * CHILDREN_EACH;
      expect(reportA).toMatchObject({ total, succeeded: total - 10, dead: 10 });
      expect(reportA?.callbacksFired).toEqual(["onDead", "onFinish"]);
      expect(reportB).toMatchObject({ total, succeeded: total, dead: 0 });
      expect(reportB?.callbacksFired).toEqual(["onFinish", "onSuccess"]);
      // The callbacks ran (in whichever worker took them).
      const output = workers.map((worker) => worker.output()).join("\n");
      expect(output.match(/★ BatchFinished/g)).toHaveLength(2);
      expect(output.match(/★ BatchSucceeded: batch \d+ \(success\)/g)).toHaveLength(1);
    } finally {
      await stopAll(workers);
    }
  }, 120_000);

  it("the same with 10 workers SIGKILLed mid-batch: each batch still calls back once, and no job is counted twice", async () => {
    const KILLS = 10;
    const instance = await openForTest(step, "chaos");
    const workers = startWorkers(instance);
    let killed = 0;
    try {
      // Longer jobs, so that most of both batches is still to run once they
      // are sealed. The kills start then: the seal waits for the FanOuts,
      // and FanOuts on killed workers would wait for replacements — on a
      // loaded machine, for longer than the seal should.
      const [a, b] = await createAndSeal(instance, 500);
      // The killer: every 300–600 ms, a worker that has run jobs, while the
      // batches are not done; a new worker takes its place, as a supervisor
      // would start one.
      while (killed < KILLS && !(await allDone(instance))) {
        await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 300));
        const busy = workers.filter((worker) => /▶ job/.test(worker.output()));
        const victim = busy[Math.floor(Math.random() * busy.length)];
        if (victim === undefined || victim.child.pid === undefined) continue;
        const index = workers.indexOf(victim);
        victim.child.kill("SIGKILL");
        await victim.exited;
        killed++;
        const slots = SLOTS[index] ?? 1;
        workers[index] = spawnWorker(instance, ["--concurrency", String(slots)], WORKER_SCRIPT);
      }
      await eventually(() => allDone(instance), "both batches to finish", 90_000);
      await expectAccountedFor(instance, a);
      await expectAccountedFor(instance, b);
      // Only the jobs that fail for good are in A's dead queue, plus any a
      // kill cost its last attempt (ProcessDiedError), never one twice.
      const [reportA] = await batchesOf(instance).list();
      expect(reportA?.dead).toBeGreaterThanOrEqual(10);
    } finally {
      await stopAll(workers);
    }
    expect(killed).toBe(KILLS);
  }, 180_000);
});

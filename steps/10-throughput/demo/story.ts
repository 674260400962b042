/**
 * `npm run step 10`: the wall first — how many commits a second this
 * machine makes, and the two that step 08 spends on each job; then the same
 * 5,000 jobs through step 08 and step 10, with the commits each spent; the
 * batches seen in the database; a graceful stop that gives back what it
 * claimed ahead. Then what is still wrong: a crash re-runs more than one
 * job per slot, and the database's work per job is the next wall.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Database } from "../../../lib/postgres/database.ts";
import type { Output, StepInstance } from "../../../lib/step.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

const JOBS = 5_000;
const CONCURRENCY = 10;

export async function runStory({ open, out }: RunContext): Promise<void> {
  const base = await open({ step: "08", namespace: "story_10_vs08" });
  const batched = await open({ namespace: "story_10" });
  try {
    await Promise.all([base.reset(), batched.reset()]);
    heading(out, "Step 10 — throughput: past one commit per job");
    const commitsPerSecond = await showTheWall(out, databaseOf(batched));
    await showBothQueues(out, base, batched, commitsPerSecond);
    await showBatchesInTheTable(out, databaseOf(batched));
    await showGracefulStop(out, batched);
    heading(out, "What is still wrong");
    say(
      out,
      "Commits per job are no longer the wall; the rows each job writes are — four from " +
        "claim to finish (a ready row deleted, a claimed row inserted and deleted, the job's " +
        "row updated), where graphile-worker writes two. A crash costs more than in " +
        "08: besides its running jobs, a killed worker re-runs the jobs that ran and whose " +
        "outcomes were not written yet (at most two batches), and sends back the jobs it had " +
        "claimed ahead, each with an attempt spent though it never started. A worker that " +
        "claimed ahead and then turns to long jobs keeps the jobs it buffered until a slot " +
        "frees. And it is still at-least-once.",
    );
    heading(out, "What step 10 promises, exactly");
    say(
      out,
      "Everything step 08 promises, with a fraction of the commits: a job's outcome is " +
        "announced only once it is durable, so nothing a caller saw can be lost; a crash runs " +
        "again at most its running jobs and two batches of unwritten outcomes.",
    );
    await Promise.all([base.reset(), batched.reset()]);
  } finally {
    await Promise.all([base.close(), batched.close()]);
  }
}

/** One connection, single-row INSERTs, each its own transaction, for half a second. */
async function showTheWall(out: Output, database: Database): Promise<number> {
  await database.query("CREATE TABLE IF NOT EXISTS commit_probe (id bigserial PRIMARY KEY)");
  const end = Date.now() + 500;
  let commits = 0;
  while (Date.now() < end) {
    await database.query("INSERT INTO commit_probe DEFAULT VALUES");
    commits++;
  }
  await database.query("DROP TABLE commit_probe");
  const perSecond = commits * 2;
  say(
    out,
    `First, the wall. A commit waits for the disk (fsync): one connection here makes ` +
      `${formatNumber(perSecond)} commits a second. Step 08 spends two per job — the claim ` +
      `and the finish, each its own transaction — so it cannot run more than about ` +
      `${formatNumber(perSecond / 2)} jobs a second, however fast the jobs are.`,
  );
  return perSecond;
}

/** The same jobs through 08 and 10: jobs per second, and statements (commits) per job. */
async function showBothQueues(
  out: Output,
  base: StepInstance,
  batched: StepInstance,
  commitsPerSecond: number,
): Promise<void> {
  say(
    out,
    `${formatNumber(JOBS)} no-op jobs through each, one worker with ${CONCURRENCY} slots. Step ` +
      "10 claims ahead as many jobs as it ended lately, frees a slot as soon as its job has " +
      "run, and writes the outcomes of all the jobs that ended meanwhile in one statement.",
  );
  const rows = [];
  for (const instance of [base, batched]) {
    await instance.enqueueMany(Array.from({ length: JOBS }, () => ({ name: "Noop" })));
    const before = instance.statementsSent();
    const cpuBefore = process.cpuUsage();
    const start = Date.now();
    const worker = instance.startWorker({ concurrency: CONCURRENCY });
    while (((await instance.counts()).finished ?? 0) < JOBS) await sleep(50);
    const seconds = (Date.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    await worker.stop();
    const perJob = (instance.statementsSent() - before) / JOBS;
    rows.push([
      `${instance.step.id} ${instance.step.slug}`,
      formatNumber(JOBS / seconds),
      formatNumber(perJob),
      formatNumber(commitsPerSecond / perJob),
      `${Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100)} %`,
    ]);
  }
  for (const line of renderTable(
    ["step", "jobs/s", "statements per job", "commits/s ÷ that", "worker CPU"],
    rows,
  )) {
    out.line(`  ${line}`);
  }
  say(
    out,
    "Each statement is a transaction, so a commit. jobs/s ≈ commits/s ÷ commits per job: " +
      "batching does not make a commit cheaper, it makes a job need a fraction of one. (Step " +
      "08 does better than one connection's commits allow: its 10 slots commit on 10 " +
      "connections at once, and commits that wait together share one flush to disk. Step " +
      "10's statements include the counts() this story polls with. Worker CPU: this " +
      "process's, where the worker runs, as a share of one core.)",
  );
}

/** `finished_at` is the finishing transaction's clock: the jobs that share one were one commit. */
async function showBatchesInTheTable(out: Output, database: Database): Promise<void> {
  const [row] = await database.query<{ commits: number; jobs: number; largest: number }>(
    `SELECT count(*)::int AS commits, sum(jobs)::int AS jobs, max(jobs)::int AS largest
     FROM (SELECT finished_at, count(*) AS jobs FROM jobs
           WHERE finished_at IS NOT NULL GROUP BY finished_at) AS finishes`,
  );
  say(
    out,
    `Seen in the table: now() is the time its transaction began, so jobs finished by one ` +
      `statement share their finished_at. Step 10's ${formatNumber(row?.jobs ?? 0)} jobs ` +
      `have ${formatNumber(row?.commits ?? 0)} distinct ones — ${formatNumber((row?.jobs ?? 0) / (row?.commits || 1))} ` +
      `jobs per finishing commit on average, ${formatNumber(row?.largest ?? 0)} at most ` +
      "(one write at a time: the outcomes of the jobs that ended while one was written go " +
      "together in the next).",
  );
}

/** A stop in the middle of a flood: what was claimed ahead goes back at once, nothing stays claimed. */
async function showGracefulStop(out: Output, instance: StepInstance): Promise<void> {
  await instance.reset();
  await instance.enqueueMany(Array.from({ length: JOBS }, () => ({ name: "Noop" })));
  const released: string[] = [];
  const off = instance.events.on("released", (e) => released.push(e.reason));
  const worker = instance.startWorker({ concurrency: CONCURRENCY });
  while (((await instance.counts()).finished ?? 0) < JOBS / 5) await sleep(5);
  await worker.stop();
  off();
  const after = await instance.counts();
  say(
    out,
    `A graceful stop in the middle of ${formatNumber(JOBS)} jobs: the worker gave back ` +
      `${released.length} job(s) it had claimed ahead and not started, let the running ones ` +
      `finish and their outcomes be written, and left ${after.claimed} claimed: ` +
      `${formatNumber(after.finished ?? 0)} finished, ${formatNumber(after.ready ?? 0)} ready for ` +
      "the next worker.",
  );
}

function databaseOf(instance: StepInstance): Database {
  if (!instance.database) throw new Error(`step ${instance.step.id} has no database`);
  return instance.database;
}

/**
 * `npm run step 05`: twenty slow jobs on a pool of five connections, step 03
 * against step 05, with `pg_stat_activity` of both while they run; then a
 * worker killed with `kill -9` mid-job, and its claims left behind.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { now } from "../../../lib/events.ts";
import type { Database } from "../../../lib/postgres/database.ts";
import type { Output, StepInstance } from "../../../lib/step.ts";
import { spawnWorkerProcess } from "../../../lib/worker-process.ts";
import { RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

/** A breath between scenes, so the reader can follow. */
const PAUSE_MS = 1_500;
const SLOW_JOBS = 20;
const SLOW_JOB_MS = 2_000;
const CONCURRENCY = 20;
const POOL_SIZE = 5;

export async function runStory({ open, out }: RunContext): Promise<void> {
  const instance = await open({ namespace: "story_05", poolSize: POOL_SIZE });
  const holding = await open({ step: "03", namespace: "story_05_vs_03", poolSize: POOL_SIZE });
  try {
    await instance.reset();
    await holding.reset();
    const database = instance.database;
    if (!database) throw new Error("Step 05 is a Postgres step but opened without a database.");

    heading(out, "Step 05 — claims");
    say(
      out,
      "Step 03 ran each job inside the transaction that took it: one connection and one open " +
        "transaction per running job. Step 05 splits that in three: claim (one short transaction " +
        "moves the job from ready_executions to claimed_executions), run (no transaction, no " +
        "connection), finish (another short transaction marks it done and deletes the claim).",
    );
    out.line("");
    say(
      out,
      `${SLOW_JOBS} jobs that each take ${SLOW_JOB_MS / 1000} s, one worker with ${CONCURRENCY} slots, a pool of ` +
        `${POOL_SIZE} connections — step 03 and step 05 side by side, at the same time:`,
    );
    await showSlowJobs(out, holding, instance);
    await sleep(PAUSE_MS);

    heading(out, "A worker is killed with kill -9 in the middle of its jobs");
    await showCrash(out, instance, database);
    await sleep(PAUSE_MS);

    heading(out, "Still wrong, and where it gets fixed");
    say(
      out,
      "• a dead worker's claims stay for ever, and nothing even notices that it died → step 06 " +
        "(heartbeats) notices, step 08 (recovery) puts the jobs back",
    );
    say(
      out,
      "• a worker killed after its job ran but before the finish committed leaves a claim for a " +
        "job that did run: recovery will run it again (at-least-once, step 08)",
    );
    out.line("");
    say(out, "Read steps/05-claims/README.md, then: npm run step 05 -- bench");
  } finally {
    await holding.close();
    await instance.close();
  }
}

/** Runs the slow jobs on both steps at once and shows their connections half a second in. */
async function showSlowJobs(
  out: Output,
  holding: StepInstance,
  claiming: StepInstance,
): Promise<void> {
  const both = [holding, claiming];
  const trackers = both.map((instance) => new RunTracker(instance.events));
  const workers = both.map((instance) => instance.startWorker({ concurrency: CONCURRENCY }));
  await sleep(300); // both workers listening
  const start = now();
  const finishedAt: number[] = [];
  const runs = both.map(async (instance, index) => {
    const ids = await instance.enqueueMany(
      Array.from({ length: SLOW_JOBS }, () => ({ name: "Sleep", args: { ms: SLOW_JOB_MS } })),
    );
    await trackers[index]?.waitForAll(ids, 60_000);
    finishedAt[index] = now();
    return trackers[index]?.check(ids);
  });
  await sleep(SLOW_JOB_MS / 4);
  const observer = claiming.database;
  if (!observer) throw new Error("Step 05 opened without a database.");
  const snapshots = await Promise.all(
    both.map((instance) => connectionSnapshot(observer, instance.namespace)),
  );
  const running = [
    // Step 03 counts a running job as ready (its delete is not committed yet):
    // what runs there is what sits in a transaction.
    snapshots[0]?.idleInTransaction ?? 0,
    (await claiming.counts()).claimed ?? 0,
  ];
  out.line("");
  out.line(
    `  pg_stat_activity ${formatNumber(SLOW_JOB_MS / 4000)} s in (application_name = the step's namespace):`,
  );
  out.line("");
  for (const line of renderTable(
    ["", "step 03 (job inside its transaction)", "step 05 (claimed, runs outside)"],
    [
      ["connections", ...snapshots.map((s) => String(s.connections))],
      ["idle in transaction", ...snapshots.map((s) => String(s.idleInTransaction))],
      ["oldest open transaction", ...snapshots.map((s) => s.oldestTransaction)],
      ["jobs running", ...running.map(String)],
      ["claimed_executions rows", "(no such table)", String(running[1])],
    ],
  ))
    out.line(`  ${line}`);
  const checks = await Promise.all(runs);
  await Promise.all(workers.map((worker) => worker.stop()));
  for (const tracker of trackers) tracker.stop();
  out.line("");
  for (const line of renderTable(
    ["step", "all 20 done after", "check"],
    both.map((instance, index) => [
      instance.step.id,
      `${formatNumber(((finishedAt[index] ?? start) - start) / 1000)} s`,
      checks[index]?.missing === 0 && checks[index]?.duplicates === 0
        ? "all ran once"
        : `${checks[index]?.missing} missing, ${checks[index]?.duplicates} twice`,
    ]),
  ))
    out.line(`  ${line}`);
  out.line("");
  say(
    out,
    `Step 03 ran ${POOL_SIZE} at a time: each running job held a pooled connection in an open ` +
      `transaction, so the pool was the real concurrency and the other ${CONCURRENCY - POOL_SIZE} slots ` +
      "waited for a connection. Step 05 ran all twenty at once: a running job holds a slot and a " +
      "claimed row, not a connection, and the pool is only used for the short claim and finish. No " +
      "transaction stays open for seconds (vacuum is not held back, no lock waits on a job), and " +
      "claimed_executions says who runs what, since when.",
  );
}

interface ConnectionSnapshot {
  readonly connections: number;
  readonly idleInTransaction: number;
  readonly oldestTransaction: string;
}

/**
 * The connections of `namespace`, seen through step 05's pool: step 03's own
 * pool is busy — every one of its connections is held by a running job, so a
 * query sent through it would wait for a job to end.
 */
async function connectionSnapshot(
  observer: Database,
  namespace: string,
): Promise<ConnectionSnapshot> {
  const [row] = await observer.query<{
    connections: number;
    idle_in_transaction: number;
    oldest_ms: number | null;
  }>(
    `SELECT count(*)::int AS connections,
            count(*) FILTER (WHERE state = 'idle in transaction')::int AS idle_in_transaction,
            (extract(epoch FROM max(clock_timestamp() - xact_start)) * 1000)::float8 AS oldest_ms
     FROM pg_stat_activity
     WHERE application_name = $1 AND pid <> pg_backend_pid()`,
    [namespace],
  );
  return {
    connections: row?.connections ?? 0,
    idleInTransaction: row?.idle_in_transaction ?? 0,
    oldestTransaction: row?.oldest_ms == null ? "none" : `${formatNumber(row.oldest_ms)} ms`,
  };
}

async function showCrash(out: Output, instance: StepInstance, database: Database): Promise<void> {
  await instance.reset();
  const crashing = spawnWorkerProcess({
    stepId: "05",
    namespace: instance.namespace,
    args: ["--concurrency", "3"],
  });
  try {
    const ids = await instance.enqueueMany(
      Array.from({ length: 3 }, () => ({ name: "Sleep", args: { ms: 600_000 } })),
    );
    for (const id of ids) await crashing.waitForLine(new RegExp(`▶ job ${id} Sleep`), 30_000);
    say(
      out,
      `A worker process (npm run step 05 -- worker --concurrency 3, pid ${crashing.child.pid}) has ` +
        `claimed three ten-minute jobs, ${ids.join(", ")}, and is running them. Now: kill -9 ${crashing.child.pid}.`,
    );
    crashing.child.kill("SIGKILL");
    await crashing.exited;
    const healthy = instance.startWorker({ name: "healthy", concurrency: 3 });
    const tracker = new RunTracker(instance.events);
    const later = await instance.enqueue("SendWelcomeEmail", { userId: 7 });
    await tracker.waitForAll([later], 10_000);
    await sleep(1_000);
    await healthy.stop();
    tracker.stop();
    out.line("");
    const claims = await database.query<{ job_id: string; process_id: string; age: string }>(
      `SELECT job_id, process_id,
              to_char(clock_timestamp() - claimed_at, 'SS.MS "s ago"') AS age
       FROM claimed_executions ORDER BY job_id`,
    );
    out.line("  SELECT job_id, process_id, claimed_at FROM claimed_executions;");
    out.line("");
    for (const line of renderTable(
      ["job_id", "process_id", "claimed"],
      claims.map((claim) => [claim.job_id, claim.process_id, claim.age]),
    ))
      out.line(`    ${line}`);
    out.line("");
    for (const line of renderTable(["state", "jobs"], Object.entries(await instance.counts())))
      out.line(`    ${line}`);
    out.line("");
    say(
      out,
      `A healthy worker with three free slots ran job ${later}, enqueued after the kill, at once — and ` +
        "none of the three: they are not ready any more, they are claimed, by a process that no longer " +
        "exists. In step 03 the dead worker's transaction would have rolled back and put them back; a " +
        "claim is committed, and nothing in this step ever removes it. The table cannot even tell these " +
        "claims from those of a worker that is alive and busy.",
    );
  } finally {
    if (crashing.child.exitCode === null && crashing.child.signalCode === null) {
      crashing.child.kill("SIGKILL");
    }
  }
}

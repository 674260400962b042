/**
 * `npm run step 02`: the ready table keeps the poll cheap, SKIP LOCKED lets
 * workers share the queue — and what polling still costs.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { now } from "../../../lib/events.ts";
import type { Database } from "../../../lib/postgres/database.ts";
import type { Output, StepInstance } from "../../../lib/step.ts";
import { RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, narrateEvents, say } from "../../../lib/workshop/story.ts";
import { TAKE_SQL } from "../ready-executions.ts";

/** A breath between scenes, so the reader can follow. */
const PAUSE_MS = 1_500;

/**
 * Step 01's poll, written out for the comparison (a step never imports
 * another; the story opens step 01 through the CLI's `open` and explains
 * this query against step 01's table).
 */
const STEP_01_POLL_SQL =
  "SELECT id, name, arguments FROM jobs WHERE finished_at IS NULL ORDER BY id LIMIT 1";

export async function runStory({ open, out }: RunContext): Promise<void> {
  const instance = await open({ namespace: "story_02" });
  const naive = await open({ step: "01", namespace: "story_02_vs_01" });
  try {
    await instance.reset();
    await naive.reset();
    const database = requireDatabase(instance);

    heading(out, "Step 02 — ready executions");
    say(
      out,
      "Enqueue now writes two rows in one transaction: the job into `jobs` (the history, kept for ever) " +
        "and a row into `ready_executions` (only jobs waiting to run). The worker takes the oldest ready " +
        "row with FOR UPDATE SKIP LOCKED and deletes it in the transaction that runs the job. Three " +
        "workers, twelve jobs:",
    );
    out.line("");
    await showThreeWorkers(out, instance);
    await sleep(PAUSE_MS);

    heading(out, "The poll stays cheap while history grows");
    say(
      out,
      "Finished jobs stay in `jobs`, but they have no ready row. Step 01's poll has to read past all of " +
        "them; step 02's take reads the ready table's index and one job by its key. Both queries, " +
        "explained, with one job waiting and more and more history (each step in its own schema):",
    );
    out.line("");
    await showPlansSideBySide(out, naive, instance);
    await sleep(PAUSE_MS);

    heading(out, "Still wrong: polling");
    await showPollingCosts(out, instance);
    await sleep(PAUSE_MS);

    heading(out, "Still wrong: a running job holds a transaction");
    await showOpenTransaction(out, instance, database);
    await sleep(PAUSE_MS);

    heading(out, "Still wrong, and where it gets fixed");
    say(out, "• pickup waits for the poll, idle workers keep querying → step 03 (LISTEN/NOTIFY)");
    say(out, "• a running job holds a transaction and a connection → step 05 (claims)");
    out.line("");
    say(out, "Read steps/02-ready-executions/README.md, then: npm run step 02 -- bench");
  } finally {
    await naive.close();
    await instance.close();
  }
}

function requireDatabase(instance: StepInstance): Database {
  if (!instance.database) throw new Error(`Step ${instance.step.id} opened without a database.`);
  return instance.database;
}

async function showThreeWorkers(out: Output, instance: StepInstance): Promise<void> {
  const tracker = new RunTracker(instance.events);
  const ids = await instance.enqueueMany(
    Array.from({ length: 12 }, (_, i) => ({ name: "SendWelcomeEmail", args: { userId: i + 1 } })),
  );
  const stopNarrating = narrateEvents(out, instance.events, (id) => id.split(":")[0] ?? id);
  const workers = ["worker-A", "worker-B", "worker-C"].map((name) =>
    instance.startWorker({ name }),
  );
  await tracker.waitForAll(ids, 20_000);
  await Promise.all(workers.map((worker) => worker.stop()));
  stopNarrating();
  tracker.stop();
  const check = tracker.check(ids);
  out.line("");
  say(
    out,
    `${check.completed} of ${ids.length} jobs ran, ${check.duplicates} of them twice. Each worker's take ` +
      "skipped the rows the others had locked, instead of reading the same 'oldest job' (step 01's flaw 1).",
  );
}

interface PlanSummary {
  readonly pages: number;
  readonly executionMs: number;
  readonly text: string[];
}

async function showPlansSideBySide(
  out: Output,
  naive: StepInstance,
  instance: StepInstance,
): Promise<void> {
  const rows: string[][] = [];
  let last: { naive: PlanSummary; ready: PlanSummary } | undefined;
  for (const added of [0, 10_000, 90_000]) {
    await naive.fillHistory(added);
    await instance.fillHistory(added);
    await naive.enqueue("Noop", {});
    await instance.enqueue("Noop", {});
    const naivePlan = await explain(requireDatabase(naive), STEP_01_POLL_SQL);
    const readyPlan = await explain(requireDatabase(instance), TAKE_SQL);
    const { finished = 0 } = await instance.counts();
    rows.push([
      formatNumber(finished),
      `${formatNumber(naivePlan.pages)} pages, ${naivePlan.executionMs.toFixed(2)} ms`,
      `${formatNumber(readyPlan.pages)} pages, ${readyPlan.executionMs.toFixed(2)} ms`,
    ]);
    last = { naive: naivePlan, ready: readyPlan };
    // Finish the probe jobs, so the next round again has exactly one waiting.
    await requireDatabase(naive).query("UPDATE jobs SET finished_at = now()");
    await requireDatabase(instance).query("DELETE FROM ready_executions");
    await requireDatabase(instance).query("UPDATE jobs SET finished_at = now()");
  }
  for (const line of renderTable(["finished jobs", "step 01's poll", "step 02's take"], rows))
    out.line(`  ${line}`);
  if (!last) return;
  out.line("");
  out.line("  Step 01's poll, with the most history:");
  for (const line of last.naive.text) out.line(`    ${line}`);
  out.line("");
  out.line("  Step 02's take, with the same history:");
  for (const line of last.ready.text) out.line(`    ${line}`);
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of `sql`, inside a transaction that is rolled
 * back: ANALYZE really runs the statement, and the take deletes a row.
 */
async function explain(database: Database, sql: string): Promise<PlanSummary> {
  const client = await database.pool.connect();
  try {
    await client.query("BEGIN");
    const result = await client.query<{ "QUERY PLAN": string }>(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) ${sql.trim().replace(/\s+/g, " ")}`,
    );
    await client.query("ROLLBACK");
    const text = result.rows.map((row) => row["QUERY PLAN"]);
    // The top node's buffers include its children's; the largest count is the total.
    const pages = Math.max(
      0,
      ...text.flatMap((line) => {
        const match = /shared hit=(\d+)(?: read=(\d+))?|shared read=(\d+)/.exec(line);
        return match ? [Number(match[1] ?? 0) + Number(match[2] ?? 0) + Number(match[3] ?? 0)] : [];
      }),
    );
    const executionMs = Number(
      text.map((line) => /Execution Time: ([\d.]+)/.exec(line)?.[1]).find(Boolean) ?? Number.NaN,
    );
    return { pages, executionMs, text };
  } finally {
    client.release();
  }
}

async function showPollingCosts(out: Output, instance: StepInstance): Promise<void> {
  say(
    out,
    "The worker still asks the database every 100 ms whether there is work. A job enqueued just after " +
      "a poll waits for the next one:",
  );
  out.line("");
  const tracker = new RunTracker(instance.events);
  const worker = instance.startWorker({});
  await sleep(300);
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const enqueuedAt = now();
    const id = await instance.enqueue("Noop", {});
    await tracker.waitForAll([id], 5_000);
    waits.push(Math.round((tracker.firstStart(id) ?? Number.NaN) - enqueuedAt));
    await sleep(50 + Math.random() * 150); // enqueue at a random point of the poll's cycle
  }
  tracker.stop();
  out.line(`  pickup after enqueue: ${waits.join(", ")} ms`);
  out.line("");
  const before = instance.statementsSent();
  await sleep(1_000);
  const idleStatements = instance.statementsSent() - before;
  await worker.stop();
  say(
    out,
    `With nothing to do, it sent ${idleStatements} statements in one second (BEGIN, the take, ` +
      "COMMIT, ten times a second). Step 03 lets the database wake the worker instead.",
  );
}

async function showOpenTransaction(
  out: Output,
  instance: StepInstance,
  database: Database,
): Promise<void> {
  say(
    out,
    "The job still runs inside the transaction that took it. Here is pg_stat_activity while a " +
      "two-second Sleep job runs:",
  );
  out.line("");
  const id = await instance.enqueue("Sleep", { ms: 2_000 });
  const tracker = new RunTracker(instance.events);
  const worker = instance.startWorker({});
  await new Promise<void>((resolve) => {
    const off = instance.events.on("started", (e) => {
      if (e.jobId !== id) return;
      off();
      resolve();
    });
  });
  await sleep(1_000);
  const rows = await database.query<{ state: string; transaction_age: string; query: string }>(
    `SELECT state, round(extract(epoch FROM clock_timestamp() - xact_start) * 1000)::text || ' ms' AS transaction_age,
            left(regexp_replace(query, '\\s+', ' ', 'g'), 40) AS query
     FROM pg_stat_activity
     WHERE application_name = $1 AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`,
    [instance.namespace],
  );
  for (const line of renderTable(
    ["state", "transaction open for", "last statement"],
    rows.map((row) => [row.state, row.transaction_age, row.query]),
  ))
    out.line(`  ${line}`);
  await tracker.waitForAll([id], 10_000);
  await worker.stop();
  tracker.stop();
  out.line("");
  say(
    out,
    "A ten-minute job is a ten-minute transaction: a pool connection pinned, and vacuum held back " +
      "for the whole database. Step 05 takes the job out of the transaction.",
  );
}

/**
 * `npm run step 01`: the naive poll works — and then shows its three flaws.
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
import { POLL_SQL } from "../poll.ts";

/** A breath between scenes, so the reader can follow. */
const PAUSE_MS = 1_500;

export async function runStory({ open, out }: RunContext): Promise<void> {
  const instance = await open({ namespace: "story_01" });
  try {
    await instance.reset();
    const database = instance.database;
    if (!database) throw new Error("Step 01 is a Postgres step but opened without a database.");

    heading(out, "Step 01 — the naive poll");
    say(
      out,
      "Enqueue is an INSERT into one `jobs` table. A worker polls it every 100 ms for the oldest job " +
        "that is not finished, runs it inside a transaction, and sets finished_at. Five jobs, one worker:",
    );
    out.line("");
    const stopNarrating = narrateEvents(out, instance.events, () => "worker");
    const worker = instance.startWorker({ concurrency: 1 });
    const tracker = new RunTracker(instance.events);
    const enqueuedAt = new Map<string, number>();
    for (let userId = 1; userId <= 5; userId++) {
      const id = await instance.enqueue("SendWelcomeEmail", { userId });
      enqueuedAt.set(id, now());
      await sleep(370);
    }
    const ids = [...enqueuedAt.keys()];
    await tracker.waitForAll(ids, 10_000);
    await worker.stop();
    stopNarrating();
    tracker.stop();
    const waits = ids.map((id) =>
      Math.round((tracker.firstStart(id) ?? Number.NaN) - (enqueuedAt.get(id) ?? 0)),
    );
    out.line("");
    say(
      out,
      `It works. But look at the gap between "enqueued" and "started": ${waits.join(", ")} ms. ` +
        "Each job sat in the table until the worker's next poll — up to 100 ms of waiting for nothing.",
    );
    await sleep(PAUSE_MS);

    heading(out, "Flaw 1: two workers run the same job");
    say(
      out,
      "Add a second worker. Nothing stops both from reading the same 'oldest unfinished job': the first " +
        "one's finished_at is not committed until its job is done, so the second sees the job still waiting.",
    );
    out.line("");
    await showTwoWorkers(out, instance);
    await sleep(PAUSE_MS);

    heading(out, "Flaw 2: the poll reads the whole history");
    say(out, `Every poll runs: ${POLL_SQL}`);
    say(
      out,
      "Finished jobs are never deleted, and nothing tells PostgreSQL where the unfinished ones are, so every " +
        "poll reads past all of history to find one. Here is that poll, explained, as history grows (with one waiting job):",
    );
    out.line("");
    await showPollPlans(out, instance, database);
    await sleep(PAUSE_MS);

    heading(out, "Still wrong, and where it gets fixed");
    say(out, "• two workers run the same job → step 02 (SKIP LOCKED on a table of ready jobs)");
    say(out, "• every poll scans the history → step 02 (the ready table stays small)");
    say(
      out,
      "• pickup waits for the next poll, idle workers keep querying → step 03 (LISTEN/NOTIFY)",
    );
    say(out, "• a running job holds a transaction and a connection → step 05 (claims)");
    out.line("");
    say(out, "Read steps/01-naive-poll/README.md, then: npm run step 01 -- bench");
  } finally {
    await instance.close();
  }
}

async function showTwoWorkers(out: Output, instance: StepInstance): Promise<void> {
  const { events } = instance;
  const tracker = new RunTracker(events);
  const ids: string[] = [];
  for (let userId = 1; userId <= 10; userId++)
    ids.push(await instance.enqueue("SendWelcomeEmail", { userId }));
  const labels = new Map<string, string>();
  const label = (workerId: string) => labels.get(workerId.split("/")[0] ?? "") ?? workerId;
  const stopNarrating = narrateEvents(out, events, label);
  const workerA = instance.startWorker({ name: "worker-A" });
  labels.set(workerA.id, "worker A");
  const workerB = instance.startWorker({ name: "worker-B" });
  labels.set(workerB.id, "worker B");
  await tracker.waitForAll(ids, 20_000);
  await Promise.all([workerA.stop(), workerB.stop()]);
  stopNarrating();
  tracker.stop();
  const check = tracker.check(ids);
  out.line("");
  // A run in which the two polls happen not to meet must not claim what it did not show.
  say(
    out,
    check.duplicates > 0
      ? `${ids.length} jobs, 2 workers: ${check.duplicates} of them ran twice. Emails sent twice, cards charged twice.`
      : `${ids.length} jobs, 2 workers: none ran twice in this run. One run proves nothing either way: ` +
          'the contract test makes two polls meet on purpose (npx vitest run test/contract/duplicates.test.ts -t "step 01").',
  );
}

async function showPollPlans(
  out: Output,
  instance: StepInstance,
  database: Database,
): Promise<void> {
  const rows: string[][] = [];
  let planWithMostHistory: string[] = [];
  for (const added of [0, 10_000, 90_000]) {
    await instance.fillHistory(added);
    const waiting = await instance.enqueue("Noop", {});
    const { finished = 0 } = await instance.counts();
    const plan = await explainPoll(database);
    rows.push([
      formatNumber(finished),
      formatNumber(plan.rowsRemoved),
      formatNumber(plan.buffers),
      `${plan.executionMs.toFixed(2)} ms`,
    ]);
    planWithMostHistory = plan.text;
    // Finish the probe job so the next round again has exactly one waiting job.
    await database.query("UPDATE jobs SET finished_at = now() WHERE id = $1", [waiting]);
  }
  for (const line of renderTable(
    ["finished jobs", "rows read and skipped", "8 kB pages read", "poll time"],
    rows,
  )) {
    out.line(`  ${line}`);
  }
  out.line("");
  out.line("  The plan of the last poll:");
  for (const line of planWithMostHistory) out.line(`    ${line}`);
}

async function explainPoll(
  database: Database,
): Promise<{ rowsRemoved: number; buffers: number; executionMs: number; text: string[] }> {
  const rows = await database.query<{ "QUERY PLAN": string }>(
    `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${POLL_SQL}`,
  );
  const text = rows.map((row) => row["QUERY PLAN"]);
  const number = (pattern: RegExp) =>
    Number(text.map((line) => pattern.exec(line)?.[1]).find(Boolean) ?? 0);
  return {
    text,
    rowsRemoved: number(/Rows Removed by Filter: (\d+)/),
    buffers: number(/shared hit=(\d+)/) + number(/read=(\d+)/),
    executionMs: number(/Execution Time: ([\d.]+)/),
  };
}

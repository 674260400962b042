/**
 * `npm run step 03`: pickup falls from half a poll interval to a few
 * milliseconds, an idle worker goes quiet, and a lost listening connection
 * comes back.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { now } from "../../../lib/events.ts";
import type { Database } from "../../../lib/postgres/database.ts";
import type { Output, StepInstance } from "../../../lib/step.ts";
import { RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import { median } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

/** A breath between scenes, so the reader can follow. */
const PAUSE_MS = 1_500;
const JOBS_PER_STEP = 8;
const IDLE_SECONDS = 2;

export async function runStory({ open, out }: RunContext): Promise<void> {
  const instance = await open({ namespace: "story_03" });
  const polling = await open({ step: "02", namespace: "story_03_vs_02" });
  try {
    await instance.reset();
    await polling.reset();
    const database = instance.database;
    if (!database) throw new Error("Step 03 is a Postgres step but opened without a database.");

    heading(out, "Step 03 — LISTEN/NOTIFY");
    say(
      out,
      "Enqueue now ends with pg_notify() inside its transaction: when it commits, PostgreSQL tells " +
        "every connection that LISTENs on the step's channel. Each worker keeps one connection of its " +
        "own listening, and takes a job the moment it hears. It still polls, every 5 s, for anything it " +
        `missed. ${JOBS_PER_STEP} jobs enqueued at random moments to an idle worker, step 02 then step 03:`,
    );
    out.line("");
    const waits02 = await pickupWaits(polling);
    const waits03 = await pickupWaits(instance);
    for (const line of renderTable(
      ["step", "pickup after enqueue (ms)", "median"],
      [
        [
          "02 (polls every 100 ms)",
          waits02.map(Math.round).join(", "),
          `${formatNumber(median(waits02))} ms`,
        ],
        [
          "03 (woken by NOTIFY)",
          waits03.map((ms) => ms.toFixed(1)).join(", "),
          `${formatNumber(median(waits03))} ms`,
        ],
      ],
    ))
      out.line(`  ${line}`);
    out.line("");
    say(
      out,
      "Step 02's jobs waited for the next poll: about half the interval on average. Step 03's were " +
        "taken as soon as the commit's notification arrived.",
    );
    await sleep(PAUSE_MS);

    heading(out, "An idle worker goes quiet");
    const idle02 = await idleStatements(polling);
    const idle03 = await idleStatements(instance);
    say(
      out,
      `With nothing to do for ${IDLE_SECONDS} s, step 02's worker sent ${idle02} statements; step 03's ` +
        `sent ${idle03}. It sits on its listening connection until the database rings (or its 5 s ` +
        "fallback poll comes round).",
    );
    await sleep(PAUSE_MS);

    heading(out, "The listening connection is lost — and comes back");
    await showReconnect(out, instance, database);
    await sleep(PAUSE_MS);

    heading(out, "Still wrong, and where it gets fixed");
    say(
      out,
      "• a running job still holds a transaction and a connection for its whole duration → step 05 (claims)",
    );
    say(
      out,
      "• LISTEN needs a session of its own: behind PgBouncer in transaction-pooling mode it silently " +
        "hears nothing (each transaction may run on another server connection). Point the listening " +
        "connection at PostgreSQL directly, or at a session-pooled port.",
    );
    out.line("");
    say(out, "Read steps/03-listen-notify/README.md, then: npm run step 03 -- bench");
  } finally {
    await polling.close();
    await instance.close();
  }
}

/** Pickup latency of jobs enqueued one at a time, at random moments, to an idle worker. */
async function pickupWaits(instance: StepInstance): Promise<number[]> {
  const tracker = new RunTracker(instance.events);
  const worker = instance.startWorker({});
  await sleep(300); // let it reach its idle state
  const waits: number[] = [];
  for (let i = 0; i < JOBS_PER_STEP; i++) {
    await sleep(40 + Math.random() * 160);
    const id = await instance.enqueue("Noop", {});
    const enqueuedAt = now();
    await tracker.waitForAll([id], 10_000);
    waits.push(Math.max(0, (tracker.firstStart(id) ?? Number.NaN) - enqueuedAt));
  }
  await worker.stop();
  tracker.stop();
  return waits;
}

async function idleStatements(instance: StepInstance): Promise<number> {
  const worker = instance.startWorker({});
  await sleep(300); // start-up statements (LISTEN, a first look) are not idle load
  const before = instance.statementsSent();
  await sleep(IDLE_SECONDS * 1000);
  const sent = instance.statementsSent() - before;
  await worker.stop();
  return sent;
}

async function showReconnect(
  out: Output,
  instance: StepInstance,
  database: Database,
): Promise<void> {
  const listening = async () =>
    database.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`,
      [instance.namespace],
    );
  const errors: string[] = [];
  const offError = instance.events.on("workerError", (e) => errors.push(e.error));
  const worker = instance.startWorker({});
  await sleep(300);
  const [before] = await listening();
  say(
    out,
    `The worker's listening connection is backend ${before?.pid}. An administrator (or a failover, or ` +
      "a flaky network) ends it: SELECT pg_terminate_backend(pid).",
  );
  await database.query("SELECT pg_terminate_backend($1)", [before?.pid]);
  let after: { pid: number } | undefined;
  const deadline = now() + 10_000;
  while (now() < deadline) {
    [after] = await listening();
    if (after && after.pid !== before?.pid) break;
    await sleep(20);
  }
  say(
    out,
    `The worker saw "${errors[0]?.split("\n")[0] ?? "the connection end"}", reconnected and LISTENs ` +
      `again as backend ${after?.pid}; right after, it looked at the queue once, for anything enqueued ` +
      "while nobody was listening. A job enqueued now:",
  );
  const tracker = new RunTracker(instance.events);
  const id = await instance.enqueue("Noop", {});
  const enqueuedAt = now();
  await tracker.waitForAll([id], 10_000);
  out.line(
    `  picked up ${((tracker.firstStart(id) ?? Number.NaN) - enqueuedAt).toFixed(1)} ms after its enqueue.`,
  );
  tracker.stop();
  offError();
  await worker.stop();
}

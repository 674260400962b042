/**
 * `npm run step 12`: a partner's API takes 10 calls a second; 30 jobs that
 * call it start 10 a second across two workers, while ordinary jobs pass
 * them by; the held-back jobs spend no attempt; `stats` says when the next
 * may start. Then what is still wrong: across a window's edge, twice the limit
 * starts within one second.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Database } from "../../../lib/postgres/database.ts";
import type { Output, StepInstance } from "../../../lib/step.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

const PARTNER = { key: "partner-api", limit: 10, periodMs: 1_000 };
/** A breath between scenes, so the reader can follow. */
const PAUSE_MS = 1_000;

export async function runStory({ open, out }: RunContext): Promise<void> {
  const instance = await open({ namespace: "story_12" });
  try {
    await instance.reset();
    heading(out, "Step 12 — rate limits: at most 10 a second, checked where the job is claimed");
    say(
      out,
      "A partner's API answers 429 Too Many Requests past 10 calls a second. We enqueue 30 jobs " +
        "that call it, each with { key: 'partner-api', limit: 10, periodMs: 1000 }, and 5 " +
        "ordinary jobs, then start two workers with 20 slots each.",
    );
    await showTenASecond(out, instance);
    await sleep(PAUSE_MS);
    await showEdge(out, instance);
    heading(out, "What step 12 promises, exactly");
    say(
      out,
      "At most N starts of one key in each window of the database's clock, across every worker " +
        "and process; a job over the limit waits where it is, ready, without an attempt. Not " +
        "N in any second wherever it begins (the edge above), not N running at once (a slow " +
        "call still overlaps the next ones: that is a concurrency limit), and not N calls: a " +
        "job that calls twice, or is retried, is started again and counted again.",
    );
    await instance.reset();
  } finally {
    await instance.close();
  }
}

/** 30 limited jobs and 5 ordinary ones, two workers: starts per second, and what waits meanwhile. */
async function showTenASecond(out: Output, instance: StepInstance): Promise<void> {
  const starts: { at: number; limited: boolean }[] = [];
  const limitedIds = new Set(
    await instance.enqueueMany(
      Array.from({ length: 30 }, (_, i) => ({
        name: "Noop",
        args: { call: i },
        rateLimit: PARTNER,
      })),
    ),
  );
  await instance.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ name: "Noop", args: { i } })));
  await sleep(1_050 - (Date.now() % 1_000)); // just after a second of the clock begins, for a clear table
  const off = instance.events.on("started", (event) =>
    starts.push({ at: event.at, limited: limitedIds.has(event.jobId) }),
  );
  const noise: string[] = [];
  const offNoise = instance.events.on("workerError", (event) => noise.push(event.error));
  const workers = [1, 2].map(() => instance.startWorker({ concurrency: 20 }));
  try {
    while (starts.filter((start) => start.limited).length < 10) await sleep(20);
    say(out, "After the first claims, while the other 20 wait for the next second:");
    await printRateLimits(out, instance);
    const attempts = await attemptsOfWaiting(instance.database as Database);
    say(
      out,
      `The ${attempts.waiting} waiting jobs have spent ${attempts.spent} attempts between them: ` +
        "they were never claimed. No error, no retry, no backoff — the worker asked for jobs " +
        "and was given the ones it may start, and was told when the next may: it sleeps until " +
        "then (no polling meanwhile).",
    );
    while (starts.length < 35) await sleep(20);
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    off();
    offNoise();
  }
  const perSecond = new Map<number, { limited: number; ordinary: number }>();
  for (const start of starts) {
    const second = Math.floor(start.at / 1000);
    const row = perSecond.get(second) ?? { limited: 0, ordinary: 0 };
    if (start.limited) row.limited++;
    else row.ordinary++;
    perSecond.set(second, row);
  }
  out.line("");
  for (const line of renderTable(
    ["second of the clock", "partner-api jobs started", "ordinary jobs started"],
    [...perSecond.entries()].map(([second, row]) => [
      new Date(second * 1000).toISOString().slice(11, 19),
      String(row.limited),
      String(row.ordinary),
    ]),
  ))
    out.line(`  ${line}`);
  say(
    out,
    `Ten a second, by the database's clock, whichever worker claimed them; the ordinary jobs ` +
      `did not wait behind them. Errors reported by the workers: ${noise.length}.`,
  );
}

/** The fixed window's edge: 20 jobs arrive 300 ms before a second ends. */
async function showEdge(out: Output, instance: StepInstance): Promise<void> {
  heading(out, "What is still wrong: the edge of a window");
  await instance.reset();
  const worker = instance.startWorker({ concurrency: 20 });
  const starts: number[] = [];
  const off = instance.events.on("started", (event) => starts.push(event.at));
  try {
    await sleep(1_700 - (Date.now() % 1_000)); // to x.7 s of the clock, a second from now
    await instance.enqueueMany(
      Array.from({ length: 20 }, (_, i) => ({
        name: "Noop",
        args: { call: i },
        rateLimit: PARTNER,
      })),
    );
    while (starts.length < 20) await sleep(20);
  } finally {
    await worker.stop();
    off();
  }
  const time = (at: number) => new Date(at).toISOString().slice(11, 23);
  const bySecond = new Map<number, number[]>();
  for (const at of starts) {
    const second = Math.floor(at / 1000);
    bySecond.set(second, [...(bySecond.get(second) ?? []), at]);
  }
  for (const line of renderTable(
    ["second of the clock", "started", "first", "last"],
    [...bySecond.entries()].map(([second, times]) => [
      new Date(second * 1000).toISOString().slice(11, 19),
      String(times.length),
      time(Math.min(...times)),
      time(Math.max(...times)),
    ]),
  ))
    out.line(`  ${line}`);
  const spanMs = Math.max(...starts) - Math.min(...starts);
  say(
    out,
    `20 jobs enqueued 300 ms before a second ends: 10 start at once, in that second's window, ` +
      `and 10 more as the next second begins — all 20 within ${Math.round(spanMs)} ms: twice ` +
      "the limit inside one second, though no window holds more than 10. The windows are " +
      "fixed to the clock (BullMQ's limiter works the same way); a service that counts over " +
      "any sliding second would refuse the second ten. The lesson measures it, and says what " +
      "would prevent it.",
  );
}

async function printRateLimits(out: Output, instance: StepInstance): Promise<void> {
  const reports = (await instance.rateLimits?.()) ?? [];
  for (const line of renderTable(
    ["rate key", "limit", "waiting", "started this period", "next may start in"],
    reports.map((rate) => [
      rate.key,
      `${rate.limit} per ${rate.periodMs} ms`,
      String(rate.waiting),
      `${rate.startedThisPeriod} of ${rate.limit}`,
      `${Math.round(rate.nextStartInMs)} ms`,
    ]),
  ))
    out.line(`  ${line}`);
}

/** The ready jobs that have a rate key, and the attempts they have spent (none, if held back for free). */
async function attemptsOfWaiting(database: Database): Promise<{ waiting: number; spent: number }> {
  const [row] = await database.query<{ waiting: number; spent: number }>(
    `SELECT count(*)::int AS waiting, coalesce(sum(jobs.attempts), 0)::int AS spent
     FROM ready_executions JOIN jobs ON jobs.id = ready_executions.job_id
     WHERE ready_executions.rate_key IS NOT NULL`,
  );
  return { waiting: row?.waiting ?? 0, spent: row?.spent ?? 0 };
}

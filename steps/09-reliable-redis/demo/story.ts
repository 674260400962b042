/**
 * `npm run step 04`: Redis is fast — and a worker killed mid-job takes the job with it.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { now } from "../../../lib/events.ts";
import type { Output, StepInstance } from "../../../lib/step.ts";
import { spawnWorkerProcess } from "../../../lib/worker-process.ts";
import { RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, narrateEvents, say } from "../../../lib/workshop/story.ts";

/** A breath between scenes, so the reader can follow. */
const PAUSE_MS = 1_500;
/** Jobs in the speed scene: enough to time, few enough to stay in the story's 30 s. */
const SPEED_JOBS = 10_000;

export async function runStory({ open, out }: RunContext): Promise<void> {
  const instance = await open({ namespace: "story_04" });
  try {
    await instance.reset();
    const redis = instance.redis;
    if (!redis) throw new Error("Step 04 is a Redis step but opened without a Redis connection.");

    heading(out, "Step 04 — Redis, the Sidekiq way");
    say(
      out,
      "Enqueue is LPUSH of the job, as JSON, onto a list. Each worker slot waits in BRPOP: the server parks " +
        "the connection and hands it the next job the moment one is pushed. No table, no poll. Five jobs, one worker:",
    );
    out.line("");
    await showFivePickups(out, instance);
    await sleep(PAUSE_MS);

    heading(out, "Fast");
    await showSpeed(out, instance);
    await sleep(PAUSE_MS);

    heading(out, "The job it loses: kill -9 in the middle of a job");
    await showCrash(out, instance, redis);
    await sleep(PAUSE_MS);

    heading(out, "Two more things a Redis queue cannot promise");
    say(
      out,
      "• Enqueue cannot join the application's transaction. The app writes its row to PostgreSQL and its job " +
        "to Redis: two commits. Roll the row back after the LPUSH and the job runs for a user who does not exist; " +
        "crash between the COMMIT and the LPUSH and the user never gets the email. (redis.test.ts shows the first " +
        "with a real PostgreSQL transaction. Steps 01–03 INSERT the job in the app's own transaction.)",
    );
    say(
      out,
      "• Redis keeps the queue in memory. Restart it without persistence and every queued job is gone, and the " +
        "job ids start again at 1. With the AOF on (appendfsync everysec) a crash loses up to a second of jobs; " +
        "appendfsync always costs much of the speed you came for. (redis.test.ts restarts a private redis-server.)",
    );
    await sleep(PAUSE_MS);

    heading(out, "Still wrong, and where it gets fixed");
    say(
      out,
      "• a job is lost when its worker dies → reliable fetch: LMOVE the job into a list of its worker, remove it " +
        "when done, and push back the jobs of workers that are gone (which needs knowing who is gone: step 06)",
    );
    say(
      out,
      "• enqueue outside the app's transaction → stay on PostgreSQL (step 05 goes on from 03)",
    );
    out.line("");
    say(out, "Read steps/04-redis/README.md, then: npm run step 04 -- bench");
  } finally {
    await instance.close();
  }
}

async function showFivePickups(out: Output, instance: StepInstance): Promise<void> {
  const stopNarrating = narrateEvents(out, instance.events, () => "worker");
  const worker = instance.startWorker({ concurrency: 1 });
  const tracker = new RunTracker(instance.events);
  // Timed from the moment enqueue is called: its reply can arrive after the worker started.
  const calledAt = new Map<string, number>();
  for (let userId = 1; userId <= 5; userId++) {
    const before = now();
    calledAt.set(await instance.enqueue("SendWelcomeEmail", { userId }), before);
    await sleep(370);
  }
  const ids = [...calledAt.keys()];
  await tracker.waitForAll(ids, 10_000);
  await worker.stop();
  stopNarrating();
  tracker.stop();
  const waits = ids.map((id) =>
    ((tracker.firstStart(id) ?? Number.NaN) - (calledAt.get(id) ?? 0)).toFixed(1),
  );
  out.line("");
  say(
    out,
    `From calling enqueue to "started": ${waits.join(", ")} ms — the INCR for the id, the LPUSH, and the ` +
      "hand-over to the waiting BRPOP. The worker may even start before the enqueue has its reply (the " +
      '"enqueued" line is printed when the reply arrives). Step 01 waited for its next poll; the idle worker ' +
      "here sent nothing while it waited.",
  );
}

async function showSpeed(out: Output, instance: StepInstance): Promise<void> {
  const tracker = new RunTracker(instance.events);
  const jobs = Array.from({ length: 1_000 }, () => ({ name: "Noop", args: {} }));
  const enqueueStart = now();
  const ids: string[] = [];
  while (ids.length < SPEED_JOBS) ids.push(...(await instance.enqueueMany(jobs)));
  const enqueueSeconds = (now() - enqueueStart) / 1000;
  const start = now();
  const worker = instance.startWorker({ concurrency: 10 });
  await tracker.waitForAll(ids, 60_000);
  const seconds = (now() - start) / 1000;
  await worker.stop();
  tracker.stop();
  const check = tracker.check(ids);
  say(
    out,
    `${formatNumber(SPEED_JOBS)} no-op jobs: enqueued at ${formatNumber(SPEED_JOBS / enqueueSeconds)} jobs/s ` +
      `(1,000 per LPUSH), run by one worker with 10 slots at ${formatNumber(check.completed / seconds)} jobs/s; ` +
      `${check.missing} missing, ${check.duplicates} twice. Nothing is written to disk, no index is kept, ` +
      "no row is locked: a job is a string moved from a list into memory.",
  );
}

async function showCrash(out: Output, instance: StepInstance, redis: Redis): Promise<void> {
  await instance.reset();
  say(
    out,
    "A worker in a process of its own (npm run step 04 -- worker), and a job that takes ten minutes. When " +
      "the worker prints that the job started, it gets SIGKILL: no cleanup, as with the OOM killer or a pulled plug.",
  );
  out.line("");
  const crashing = spawnWorkerProcess({ stepId: "04", namespace: instance.namespace });
  try {
    const jobId = await instance.enqueue("Sleep", { ms: 600_000 });
    const line = await crashing.waitForLine(new RegExp(`▶ job ${jobId} Sleep`), 30_000);
    out.line(`  worker process ${crashing.child.pid}: ${line.trim()}`);
    crashing.child.kill("SIGKILL");
    await crashing.exited;
    out.line(`  kill -9 ${crashing.child.pid}`);
    out.line("");
    const counts = await instance.counts();
    for (const row of renderTable(["state", "jobs"], Object.entries(counts))) out.line(`  ${row}`);
    out.line("");
    const search = await searchNamespace(redis, instance.namespace, jobId);
    say(
      out,
      `Job ${jobId} was counted when it was enqueued and never finished. Searched all ${search.keys} keys under ` +
        `${instance.namespace}:* for it: ${search.foundIn.length === 0 ? "it is nowhere" : `found in ${search.foundIn.join(", ")}`}. ` +
        'BRPOP removed it from the queue before it ran; its only copy was in the killed process. "runningOrLost" is ' +
        "all Redis can say: it cannot tell a job that runs from a job that died.",
    );
    const healthy = instance.startWorker({ name: "healthy" });
    const tracker = new RunTracker(instance.events);
    const later = await instance.enqueue("SendWelcomeEmail", { userId: 7 });
    await tracker.waitForAll([later], 10_000);
    await healthy.stop();
    tracker.stop();
    say(
      out,
      `A healthy worker runs job ${later}, enqueued after the crash, at once. Job ${jobId} does not come back: ` +
        "no one will ever run it, and no one will know.",
    );
  } finally {
    if (crashing.child.exitCode === null && crashing.child.signalCode === null) {
      crashing.child.kill("SIGKILL");
    }
  }
}

/** Looks at every value under the namespace for the job: the queue, the failed list, the counters. */
async function searchNamespace(
  redis: Redis,
  namespace: string,
  jobId: string,
): Promise<{ keys: number; foundIn: string[] }> {
  const prefix = `${namespace}:`;
  const needle = `"id":"${jobId}"`;
  const foundIn: string[] = [];
  let keys = 0;
  let cursor = "0";
  do {
    const [next, names] = await redis.scan(cursor, "MATCH", `${prefix}*`);
    cursor = next;
    for (const fullName of names) {
      keys++;
      const name = fullName.slice(prefix.length); // the connection adds the prefix back
      const type = await redis.type(name);
      const values =
        type === "list" ? await redis.lrange(name, 0, -1) : [(await redis.get(name)) ?? ""];
      if (values.some((value) => value.includes(needle))) foundIn.push(fullName);
    }
  } while (cursor !== "0");
  return { keys, foundIn };
}

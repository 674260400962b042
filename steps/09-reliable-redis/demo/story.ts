/**
 * `npm run step 09`: step 04's kill -9 again — and this time the job is found, and runs again.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { Output, StepInstance } from "../../../lib/step.ts";
import { spawnWorkerProcess } from "../../../lib/worker-process.ts";
import { RunTracker } from "../../../lib/workshop/bench/run-tracker.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { renderTable } from "../../../lib/workshop/format.ts";
import { heading, narrateEvents, say } from "../../../lib/workshop/story.ts";
import { processingKey } from "../keys.ts";
import { registeredProcesses } from "../processes.ts";

/** A breath between scenes, so the reader can follow. */
const PAUSE_MS = 1_500;
/** Short heartbeats for the story, so a death is noticed in a second, not a minute. */
const BEATS = ["--heartbeat-interval", "200", "--alive-threshold", "1000"];

export async function runStory({ open, out }: RunContext): Promise<void> {
  const instance = await open({ namespace: "story_09" });
  try {
    await instance.reset();
    const redis = instance.redis;
    if (!redis) throw new Error("Step 09 is a Redis step but opened without a Redis connection.");

    heading(out, "Step 09 — reliable Redis: the job is never nowhere");
    say(
      out,
      "Step 04 took a job with BRPOP, which removed it: a worker killed mid-job took the job along. Here each " +
        "slot waits in BLMOVE, which moves the job from the queue into a list of this worker process — " +
        "processing:<process id> — in one step on the server. The job leaves that list only when the worker " +
        "acknowledges it: a Lua script that removes it and records the outcome together.",
    );
    await sleep(PAUSE_MS);

    heading(out, "kill -9 in the middle of a job, again");
    await showCrash(out, instance, redis);
    await sleep(PAUSE_MS);

    heading(out, "Still wrong");
    say(
      out,
      "• At least once, not exactly once: the killed worker's job ran again from the start. Whatever it did " +
        "before it died (an email sent, a card charged) it does again. Jobs must be idempotent (step 08 shows how).",
    );
    say(
      out,
      "• A job that kills every worker it touches (KillsItsWorker) is caught by the attempt count: each death is " +
        "an attempt, and after its last one it is in the dead queue. But it kills a worker per attempt, and each " +
        "death interrupts that worker's other running jobs too, which are retried as well.",
    );
    say(
      out,
      "• Redis keeps it all in memory. Without the AOF (appendonly yes), a Redis restart loses every job — " +
        "queued, running, scheduled, dead. With appendfsync everysec a crash can lose the last second of " +
        "writes, acknowledgements included (a finished job then runs again); appendfsync always loses nothing " +
        "the server has answered, at an fsync per write. (reliable-redis.test.ts restarts a private redis-server.)",
    );
    say(
      out,
      "• Enqueue still cannot join the application's database transaction: two systems, two commits.",
    );
    out.line("");
    say(out, "Read steps/09-reliable-redis/README.md, then: npm run step 09 -- bench");
  } finally {
    await instance.close();
  }
}

async function showCrash(out: Output, instance: StepInstance, redis: Redis): Promise<void> {
  say(
    out,
    `A worker in a process of its own (npm run step 09 -- worker ${BEATS.join(" ")}), and a job that sleeps ` +
      "3 seconds. When the worker prints that the job started, it gets SIGKILL.",
  );
  out.line("");
  const crashing = spawnWorkerProcess({
    stepId: "09",
    namespace: instance.namespace,
    args: BEATS,
  });
  try {
    const jobId = await instance.enqueue("Sleep", { ms: 3_000 });
    const line = await crashing.waitForLine(new RegExp(`▶ job ${jobId} Sleep`), 30_000);
    out.line(`  worker process ${crashing.child.pid}: ${line.trim()}`);
    crashing.child.kill("SIGKILL");
    await crashing.exited;
    out.line(`  kill -9 ${crashing.child.pid}`);
    out.line("");
    for (const row of renderTable(["state", "jobs"], Object.entries(await instance.counts()))) {
      out.line(`  ${row}`);
    }
    const [dead] = await registeredProcesses(redis);
    const held = dead ? await redis.lrange(processingKey(dead.id), 0, -1) : [];
    out.line("");
    say(
      out,
      `Step 04 said "runningOrLost" and searched every key in vain. Here job ${jobId} is "claimed": it is in ` +
        `${instance.namespace}:processing:${dead?.id ?? "?"}, the list of the dead process ${dead?.id ?? "?"} ` +
        `(pid ${dead?.pid ?? "?"}), which holds ${held.length} entr${held.length === 1 ? "y" : "ies"}:`,
    );
    for (const entry of held) out.line(`    ${entry}`);
    out.line("");
    say(
      out,
      "A healthy worker starts. At every heartbeat it looks for processes whose heartbeat key has expired " +
        "(SET … PX 1000, set again every 200 ms: a second after the kill it is gone), and its reaper sends " +
        "what their lists hold back through the retry path — the interrupted run counts as attempt 1:",
    );
    out.line("");
    const stopNarrating = narrateEvents(out, instance.events, () => "healthy worker");
    const tracker = new RunTracker(instance.events);
    const healthy = instance.startWorker({
      name: "healthy",
      heartbeatIntervalMs: 200,
      aliveThresholdMs: 1_000,
      retryBackoff: { baseMs: 500, maxMs: 500, jitter: 0 },
      dispatchIntervalMs: 100,
    });
    await tracker.waitForAll([jobId], 30_000);
    await healthy.stop();
    stopNarrating();
    tracker.stop();
    out.line("");
    for (const row of renderTable(["state", "jobs"], Object.entries(await instance.counts()))) {
      out.line(`  ${row}`);
    }
    out.line("");
    say(
      out,
      `Job ${jobId} ran again and finished. Nothing was lost, and nobody had to go looking for it. The healthy ` +
        "worker stopped cleanly: it handed back what it held (nothing) and deleted its registration, in one script.",
    );
  } finally {
    if (crashing.child.exitCode === null && crashing.child.signalCode === null) {
      crashing.child.kill("SIGKILL");
    }
  }
}

/**
 * Step 09's own tests: where a job is at every moment, what the scripts decide, and what a
 * Redis queue still cannot promise.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import { Database } from "../../lib/postgres/database.ts";
import type { StepInstance } from "../../lib/step.ts";
import { testDatabaseUrl } from "../../test/services.ts";
import { openForTest } from "../../test/support/open.ts";
import { privateRedis } from "../../test/support/private-redis.ts";
import { recordingJobs } from "../../test/support/recording-jobs.ts";
import { eventually, nextEvent } from "../../test/support/waiting.ts";
import { waitingJob } from "../../test/support/waiting-job.ts";
import { spawnWorker } from "../../test/support/worker-process.ts";
import { acknowledge } from "./acknowledge.ts";
import { step } from "./index.ts";
import { DEAD, PROCESSES, processingKey, QUEUE, SCHEDULED } from "./keys.ts";
import { encodeJob } from "./payload.ts";
import { registeredProcesses, registerProcess } from "./processes.ts";
import { applyReap, planReap, reapProcess } from "./reaper.ts";

function redisOf(instance: StepInstance): Redis {
  if (!instance.redis) throw new Error("Step 09 opened without a Redis connection.");
  return instance.redis;
}

const QUICK_BEATS = { heartbeatIntervalMs: 100, aliveThresholdMs: 1_000 };
const RETRY_SOON = { retryBackoff: { baseMs: 20, maxMs: 100, jitter: 0 }, dispatchIntervalMs: 20 };
const POLICY = { registry: recordingJobs().registry, backoff: RETRY_SOON.retryBackoff };

/** A process that registered and will never beat again. */
function registerGhost(redis: Redis, aliveThresholdMs = 60_000) {
  return registerProcess(redis, {
    kind: "Worker",
    name: "ghost",
    supervisorId: null,
    aliveThresholdMs,
  });
}

/** A queue entry of a `Record` job, first attempt. */
function entryOf(id: string): string {
  return encodeJob({ id, name: "Record", arguments: "{}", enqueuedAt: 0, attempt: 1 });
}

describe("step 09 — reliable Redis", () => {
  it("a job whose worker process is killed with SIGKILL stays in that process's processing list, counted as claimed", async () => {
    const instance = await openForTest(step, "held");
    const redis = redisOf(instance);
    const crashing = spawnWorker(instance, [
      "--heartbeat-interval",
      "100",
      "--alive-threshold",
      "60000",
    ]);
    const jobId = await instance.enqueue("Sleep", { ms: 600_000 });
    await crashing.waitForLine(new RegExp(`▶ job ${jobId} Sleep`));
    crashing.child.kill("SIGKILL");
    await crashing.exited;
    const [dead] = await registeredProcesses(redis);
    expect(dead?.pid).toBe(crashing.child.pid);
    const held = await redis.lrange(processingKey(dead?.id ?? ""), 0, -1);
    expect(held.map((entry) => JSON.parse(entry).id)).toEqual([jobId]);
    expect(await instance.counts()).toEqual({
      ready: 0,
      claimed: 1,
      scheduled: 0,
      finished: 0,
      failed: 0,
    });
  }, 60_000);

  it("the reaper sends a dead process's jobs through the retry path, with the interrupted attempt counted", async () => {
    const instance = await openForTest(step, "reap");
    const redis = redisOf(instance);
    const ghost = await registerGhost(redis, 1_000);
    const entry = entryOf("7");
    await redis.lpush(processingKey(ghost.id), entry);
    // Not yet: its heartbeat key has not expired, so a reaper that is not told otherwise leaves it.
    expect(await reapProcess(redis, ghost, POLICY, false)).toBeUndefined();
    const recovered = nextEvent(instance.events, "recovered", (e) => e.jobId === "7");
    const attempts: number[] = [];
    const registry = new JobRegistry([
      defineJob({
        name: "Record",
        description: "notes which attempt it is",
        exampleArguments: {},
        perform: (_, { attempt }) => {
          attempts.push(attempt);
        },
      }),
    ]);
    const finished = nextEvent(instance.events, "finished", (e) => e.jobId === "7");
    const worker = instance.startWorker({ registry, ...QUICK_BEATS, ...RETRY_SOON });
    expect(await recovered).toMatchObject({ disposition: "retry" });
    await finished;
    await worker.stop();
    expect(attempts).toEqual([2]);
    expect(await redis.hexists(PROCESSES, ghost.id)).toBe(0);
  });

  it("two reapers that read the same dead process move each of its jobs once: the script's LREM decides, not a lock", async () => {
    const instance = await openForTest(step, "tworeapers");
    const redis = redisOf(instance);
    const ghost = await registerGhost(redis);
    const entries = Array.from({ length: 20 }, (_, i) => entryOf(String(i + 1)));
    await redis.lpush(processingKey(ghost.id), ...entries);
    // Both read the same 20 entries and decide to retry them all; then both apply.
    const [first, second] = await Promise.all([
      planReap(redis, ghost, POLICY),
      planReap(redis, ghost, POLICY),
    ]);
    expect((await applyReap(redis, first, true))?.jobs).toHaveLength(20);
    expect((await applyReap(redis, second, true))?.jobs).toEqual([]);
    expect(await redis.zcard(SCHEDULED)).toBe(20);
    expect(await instance.counts()).toMatchObject({ claimed: 0, scheduled: 20 });
    expect(await instance.processes?.()).toEqual([]);
  });

  it("a job acknowledged between the reaper's read and its script is not retried: the slow process's finish stands", async () => {
    const instance = await openForTest(step, "ackfirst");
    const redis = redisOf(instance);
    const ghost = await registerGhost(redis);
    const entry = entryOf("5");
    await redis.lpush(processingKey(ghost.id), entry);
    const plan = await planReap(redis, ghost, POLICY);
    // The process was slow, not dead: its acknowledge lands before the reaper's script.
    expect((await acknowledge(redis, ghost.id, entry, { kind: "finished" })).recorded).toBe(true);
    expect((await applyReap(redis, plan, true))?.jobs).toEqual([]);
    expect(await instance.counts()).toMatchObject({ finished: 1, scheduled: 0, claimed: 0 });
  });

  it("an acknowledge takes the slot's next job into the same processing list, in the same script", async () => {
    const instance = await openForTest(step, "acknext");
    const redis = redisOf(instance);
    const me = await registerGhost(redis);
    const [first, second] = [entryOf("1"), entryOf("2")];
    await redis.lpush(QUEUE, first, second);
    await redis.lmove(QUEUE, processingKey(me.id), "RIGHT", "LEFT");
    expect(await acknowledge(redis, me.id, first, { kind: "finished" }, true)).toEqual({
      recorded: true,
      next: second,
    });
    expect(await redis.lrange(processingKey(me.id), 0, -1)).toEqual([second]);
    // With the queue empty, the acknowledge takes nothing, and the slot goes back to BLMOVE.
    expect(await acknowledge(redis, me.id, second, { kind: "finished" }, true)).toEqual({
      recorded: true,
      next: null,
    });
    expect(await instance.counts()).toMatchObject({ ready: 0, claimed: 0, finished: 2 });
  });

  it("a process taken for dead that finishes its job late records nothing, and registers again", async () => {
    const instance = await openForTest(step, "late");
    const redis = redisOf(instance);
    const { registry, release } = waitingJob();
    const id = await instance.enqueue("Slow", {});
    const started = nextEvent(instance.events, "started", (e) => e.jobId === id);
    const worker = instance.startWorker({
      registry,
      ...QUICK_BEATS,
      ...RETRY_SOON,
      dispatchIntervalMs: 600_000,
    });
    await started;
    // Another process reaps it as if its heartbeat had expired (a long GC pause, say).
    const [me] = await registeredProcesses(redis);
    if (!me) throw new Error("The worker did not register.");
    await reapProcess(redis, me, POLICY, true);
    const superseded = nextEvent(instance.events, "superseded", (e) => e.jobId === id);
    release.open();
    expect(await superseded).toMatchObject({ status: "finished" });
    await eventually(async () => (await redis.hexists(PROCESSES, me.id)) === 1, "registered again");
    await worker.stop();
    // The retry the reaper scheduled stands; the late finish counted nothing.
    expect(await instance.counts()).toMatchObject({ scheduled: 1, finished: 0, claimed: 0 });
  });

  it("stop hands a job still running at the shutdown timeout back to the front of the queue, without counting an attempt, and deregisters", async () => {
    const instance = await openForTest(step, "handback");
    const redis = redisOf(instance);
    const { registry } = waitingJob(); // never released
    const [id, behind] = await instance.enqueueMany([{ name: "Slow" }, { name: "Slow" }]);
    const started = nextEvent(instance.events, "started", (e) => e.jobId === id);
    const worker = instance.startWorker({ registry, shutdownTimeoutMs: 0 });
    await started;
    const released = nextEvent(instance.events, "released", (e) => e.jobId === id);
    await worker.stop();
    expect(await released).toMatchObject({ reason: "still running" });
    // The right end is the one BLMOVE takes next: the handed-back job first, then the other.
    const queue = (await redis.lrange(QUEUE, 0, -1)).map((entry) => JSON.parse(entry));
    expect(queue.map((job) => job.id)).toEqual([behind, id]);
    expect(queue.every((job) => job.attempt === 1)).toBe(true);
    expect(await instance.processes?.()).toEqual([]);
  });

  it("a job moved into the processing list just as stop closed the blocked connection is handed back, not lost", async () => {
    const instance = await openForTest(step, "inflight");
    const redis = redisOf(instance);
    const worker = instance.startWorker({ concurrency: 2, name: "idle" });
    const blocked = async () =>
      String(await redis.call("CLIENT", "LIST"))
        .split("\n")
        .filter((line) => line.includes(`name=${instance.namespace}/idle/`))
        .filter((line) => line.includes("cmd=blmove") && / flags=\S*b/.test(line)).length;
    await eventually(async () => (await blocked()) === 2, "both slots blocked in BLMOVE");
    // What the server does for a BLMOVE whose reply is lost as the connection closes: the
    // entry is already in the process's list. (Pushed by hand here, so the moment is exact.)
    const [me] = await registeredProcesses(redis);
    const entry = entryOf("99");
    await redis.lpush(processingKey(me?.id ?? ""), entry);
    await worker.stop();
    expect(await blocked()).toBe(0);
    expect(await redis.lrange(QUEUE, 0, -1)).toEqual([entry]);
    expect(await instance.processes?.()).toEqual([]);
  });

  it("an entry in the queue that is not a job goes to the dead queue, and the worker goes on", async () => {
    const instance = await openForTest(step, "damaged");
    const redis = redisOf(instance);
    await redis.lpush(QUEUE, "{not json");
    const healthy = await instance.enqueue("Record", {});
    const { registry } = recordingJobs();
    const complaint = nextEvent(instance.events, "workerError");
    const finished = nextEvent(instance.events, "finished", (e) => e.jobId === healthy);
    const worker = instance.startWorker({ registry });
    expect((await complaint).error).toMatch(/Took an entry off the queue that is not a job/);
    await finished;
    await worker.stop();
    expect(await instance.counts()).toMatchObject({ ready: 0, claimed: 0, finished: 1, failed: 1 });
    const [dead] = (await instance.failedJobs?.()) ?? [];
    expect(dead).toMatchObject({ jobId: "(not a job)", arguments: "{not json" });
    expect(await redis.zcard(DEAD)).toBe(1);
  });

  it("enqueue still cannot join the database transaction: a job enqueued in a transaction that rolls back still runs", async () => {
    const instance = await openForTest(step, "dualwrite");
    const app = new Database({
      url: testDatabaseUrl(),
      schema: `t09_app_${randomBytes(3).toString("hex")}`,
    });
    try {
      await app.applySchema("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL)");
      const lookups: boolean[] = [];
      const registry = new JobRegistry([
        defineJob<{ userId: number }>({
          name: "SendWelcomeEmail",
          description: "looks the user up, as the real job would before sending",
          exampleArguments: { userId: 1 },
          async perform({ userId }) {
            const rows = await app.query("SELECT email FROM users WHERE id = $1", [userId]);
            lookups.push(rows.length === 1);
          },
        }),
      ]);
      let jobId = "";
      const signUp = app.transaction(async (tx) => {
        const [user] = await tx.query<{ id: string }>(
          "INSERT INTO users (email) VALUES ('ada@example.com') RETURNING id",
        );
        jobId = await instance.enqueue("SendWelcomeEmail", { userId: Number(user?.id) });
        throw new Error("the card was declined");
      });
      await expect(signUp).rejects.toThrow("the card was declined");
      const finished = nextEvent(instance.events, "finished", (e) => e.jobId === jobId);
      const worker = instance.startWorker({ registry });
      await finished; // the job runs anyway, for a user who does not exist
      await worker.stop();
      expect(lookups).toEqual([false]);
    } finally {
      await app.dropSchema();
      await app.close();
    }
  });
});

describe("step 09 — what a Redis restart without persistence does", () => {
  it("loses every job — queued, due later, in a processing list — and every process", async () => {
    const server = await privateRedis();
    const instance = await step.open({
      redisUrl: server.url,
      namespace: `t09_amnesia_${randomBytes(3).toString("hex")}`,
    });
    try {
      const redis = redisOf(instance);
      await instance.enqueueMany([
        { name: "Noop" },
        { name: "Noop", runAt: new Date(Date.now() + 3_600_000) },
      ]);
      const ghost = await registerGhost(redis);
      await redis.lpush(processingKey(ghost.id), entryOf("9"));
      expect(await instance.counts()).toMatchObject({ ready: 1, scheduled: 1, claimed: 1 });
      await server.kill();
      await server.start();
      await eventually(() => redis.status === "ready", "the instance to reconnect");
      expect(await instance.counts()).toEqual({
        ready: 0,
        claimed: 0,
        scheduled: 0,
        finished: 0,
        failed: 0,
      });
      expect(await instance.processes?.()).toEqual([]);
      expect(await instance.enqueue("Noop", {})).toBe("1"); // ids start again
    } finally {
      await instance.close();
    }
  });
});

describe("step 09 — a job runs through the public CLI", () => {
  it("a worker process runs a job and, on SIGTERM, deregisters", async () => {
    const instance = await openForTest(step, "cli");
    const worker = spawnWorker(instance);
    const id = await instance.enqueue("Noop", {});
    await worker.waitForLine(new RegExp(`✓ job ${id} Noop`));
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(await instance.processes?.()).toEqual([]);
  }, 60_000);
});

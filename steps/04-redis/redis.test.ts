/**
 * Step 04's own tests: what BRPOP does well, and the jobs a Redis queue loses.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import { Database } from "../../lib/postgres/database.ts";
import type { StepInstance } from "../../lib/step.ts";
import { testDatabaseUrl } from "../../test/services.ts";
import { enqueueAndWait } from "../../test/support/enqueue-and-wait.ts";
import { openForTest } from "../../test/support/open.ts";
import { privateRedis } from "../../test/support/private-redis.ts";
import { recordingJobs } from "../../test/support/recording-jobs.ts";
import { eventually, nextEvent } from "../../test/support/waiting.ts";
import { spawnWorker } from "../../test/support/worker-process.ts";
import { step } from "./index.ts";
import { FAILED_JOBS, QUEUE } from "./keys.ts";
import { recentFailures } from "./outcomes.ts";

function redisOf(instance: StepInstance): Redis {
  if (!instance.redis) throw new Error("Step 04 opened without a Redis connection.");
  return instance.redis;
}

/** Every value stored under the instance's namespace, to look for a job in. */
async function everyValue(instance: StepInstance): Promise<string[]> {
  const redis = redisOf(instance);
  const prefix = `${instance.namespace}:`;
  const values: string[] = [];
  for (const fullName of await redis.keys(`${prefix}*`)) {
    const name = fullName.slice(prefix.length);
    const type = await redis.type(name);
    if (type === "list") values.push(...(await redis.lrange(name, 0, -1)));
    else values.push((await redis.get(name)) ?? "");
  }
  return values;
}

/** Opens step 04 on a private server, outside `openForTest` (whose clean-up needs the shared one). */
async function openOn(url: string, label: string): Promise<StepInstance> {
  return step.open({ redisUrl: url, namespace: `t04_${label}_${randomBytes(3).toString("hex")}` });
}

describe("step 04 — Redis", () => {
  it("enqueue cannot join the database transaction: a job enqueued in a transaction that rolls back still runs", async () => {
    const instance = await openForTest(step, "dualwrite");
    const app = new Database({
      url: testDatabaseUrl(),
      schema: `t04_app_${randomBytes(3).toString("hex")}`,
    });
    try {
      await app.applySchema("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL)");
      const lookups: { userId: number; found: boolean }[] = [];
      const registry = new JobRegistry([
        defineJob<{ userId: number }>({
          name: "SendWelcomeEmail",
          description: "looks the user up, as the real job would before sending",
          exampleArguments: { userId: 1 },
          async perform({ userId }) {
            const rows = await app.query("SELECT email FROM users WHERE id = $1", [userId]);
            lookups.push({ userId, found: rows.length === 1 });
          },
        }),
      ]);
      let jobId = "";
      let userId = 0;
      // The sign-up: insert the user, enqueue the welcome email, then something fails.
      const signUp = app.transaction(async (tx) => {
        const [user] = await tx.query<{ id: string }>(
          "INSERT INTO users (email) VALUES ('ada@example.com') RETURNING id",
        );
        userId = Number(user?.id);
        jobId = await instance.enqueue("SendWelcomeEmail", { userId });
        throw new Error("the card was declined");
      });
      await expect(signUp).rejects.toThrow("the card was declined");
      expect(await app.query("SELECT * FROM users")).toEqual([]); // the user is rolled back…
      const finished = nextEvent(instance.events, "finished", (e) => e.jobId === jobId);
      const worker = instance.startWorker({ registry });
      await finished; // …and the job runs anyway, for a user who does not exist.
      await worker.stop();
      expect(lookups).toEqual([{ userId, found: false }]);
    } finally {
      await app.dropSchema();
      await app.close();
    }
  });

  it("a job taken by a worker killed with SIGKILL is nowhere in Redis: counted as enqueued, never finished", async () => {
    const instance = await openForTest(step, "lost");
    const crashing = spawnWorker(instance);
    const jobId = await instance.enqueue("Sleep", { ms: 600_000 });
    await crashing.waitForLine(new RegExp(`▶ job ${jobId} Sleep`));
    crashing.child.kill("SIGKILL");
    await crashing.exited;
    expect(await instance.counts()).toEqual({
      queued: 0,
      runningOrLost: 1,
      finished: 0,
      failed: 0,
    });
    const values = await everyValue(instance);
    expect(values.length).toBeGreaterThan(0); // the counters are there…
    expect(values.filter((value) => value.includes(`"id":"${jobId}"`))).toEqual([]); // …the job is not
  }, 60_000);

  it("an idle worker waits in BRPOP on the server and sends no commands", async () => {
    const instance = await openForTest(step, "idle");
    const redis = redisOf(instance);
    const worker = instance.startWorker({ concurrency: 3, name: "idle" });
    const blockedInBrpop = async () =>
      String(await redis.call("CLIENT", "LIST"))
        .split("\n")
        .filter((line) => line.includes(`name=${instance.namespace}/idle/`))
        .filter((line) => line.includes("cmd=brpop") && / flags=\S*b/.test(line)).length;
    await eventually(async () => (await blockedInBrpop()) === 3, "three slots blocked in BRPOP");
    const before = instance.statementsSent();
    await sleep(500);
    expect(instance.statementsSent()).toBe(before);
    // stop() wakes the blocked slots at once: no timeout to wait out.
    const stopStarted = performance.now();
    await worker.stop();
    expect(performance.now() - stopStarted).toBeLessThan(1_000);
    expect(await blockedInBrpop()).toBe(0);
  });

  it("an entry in the queue that is not a job is recorded as failed, and the worker goes on", async () => {
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
    expect(await instance.counts()).toMatchObject({ queued: 0, finished: 1, failed: 1 });
    const [failure] = await recentFailures(redis);
    expect(failure).toMatchObject({ id: null, payload: "{not json" });
    expect(failure?.error).toMatch(/^DamagedQueueEntryError/);
  });

  it("arguments damaged in the queue fail that one job, with its id, and the worker goes on", async () => {
    const instance = await openForTest(step, "corrupt");
    const redis = redisOf(instance);
    const damaged = await instance.enqueue("Record", {});
    const healthy = await instance.enqueue("Record", {});
    // The oldest job is the last element of the list (LPUSH on the left, BRPOP from the right).
    const entry = JSON.parse((await redis.lindex(QUEUE, -1)) ?? "{}");
    await redis.lset(QUEUE, -1, JSON.stringify({ ...entry, arguments: '{"unterminated' }));
    const { registry } = recordingJobs();
    const failed = nextEvent(instance.events, "failed", (e) => e.jobId === damaged);
    const finished = nextEvent(instance.events, "finished", (e) => e.jobId === healthy);
    const worker = instance.startWorker({ registry });
    expect((await failed).error).toMatch(
      /CorruptArgumentsError: Job \d+ has stored arguments that are not valid JSON/,
    );
    await finished;
    await worker.stop();
    expect(await redis.llen(FAILED_JOBS)).toBe(1);
  });

  it("reset deletes the keys of its namespace and no others", async () => {
    const mine = await openForTest(step, "reset");
    const neighbour = await openForTest(step, "neighbour");
    await mine.enqueue("Noop", {});
    await neighbour.enqueue("Noop", {});
    await mine.reset();
    expect(await redisOf(mine).keys(`${mine.namespace}:*`)).toEqual([]);
    expect(await neighbour.counts()).toMatchObject({ queued: 1 });
  });
});

describe("step 04 — when Redis is away", () => {
  it("a worker started before Redis says so, retries without spinning, and runs jobs once Redis is up", async () => {
    const server = await privateRedis({ started: false });
    const instance = await openOn(server.url, "late");
    try {
      const complaint = nextEvent(instance.events, "workerError");
      const worker = instance.startWorker({ concurrency: 2 });
      expect((await complaint).error).toMatch(
        /^Redis at redis:\/\/127\.0\.0\.1:\d+\/? is unreachable \(.*ECONNREFUSED.*\); .* reconnects in \d+ ms/,
      );
      // A second of outage: the slots' BRPOPs wait in ioredis's queue; nothing loops.
      const sentBefore = instance.statementsSent();
      const cpuBefore = process.cpuUsage();
      await sleep(1_000);
      const cpu = process.cpuUsage(cpuBefore);
      expect(instance.statementsSent() - sentBefore).toBeLessThanOrEqual(2);
      expect((cpu.user + cpu.system) / 1_000).toBeLessThan(500); // far from a core's 1,000 ms
      await server.start();
      await eventually(() => instance.redis?.status === "ready", "the instance to reconnect");
      await enqueueAndWait(instance, "finished", "Noop");
      await worker.stop();
    } finally {
      await instance.close();
    }
  });

  it("when Redis goes away mid-run the worker says so, reconnects, and goes on", async () => {
    const server = await privateRedis();
    const instance = await openOn(server.url, "restart");
    try {
      const worker = instance.startWorker({ concurrency: 2 });
      await enqueueAndWait(instance, "finished", "Noop");
      const complaint = nextEvent(instance.events, "workerError");
      await server.kill();
      expect((await complaint).error).toMatch(/^Redis at .* is unreachable/);
      await server.start();
      await eventually(() => instance.redis?.status === "ready", "the instance to reconnect");
      await enqueueAndWait(instance, "finished", "Noop");
      await worker.stop();
    } finally {
      await instance.close();
    }
  });

  it("a worker stopped while Redis is away stops, without waiting for Redis to come back", async () => {
    const server = await privateRedis();
    const instance = await openOn(server.url, "stopaway");
    try {
      const worker = instance.startWorker({ concurrency: 2, name: "away" });
      await enqueueAndWait(instance, "finished", "Noop");
      const complaining = new Set<string>();
      const unsubscribe = instance.events.on("workerError", (e) => complaining.add(e.workerId));
      await server.kill();
      // Each slot has seen the outage: its BRPOP waits in ioredis, between reconnect attempts.
      await eventually(() => complaining.size === 2, "both slots to say Redis is unreachable");
      unsubscribe();
      await worker.stop();
    } finally {
      await instance.close();
    }
  });

  it("a Redis restart without persistence loses every queued job, and ids start again at 1", async () => {
    const server = await privateRedis();
    const instance = await openOn(server.url, "amnesia");
    try {
      const before = await instance.enqueueMany([{ name: "Noop" }, { name: "Noop" }]);
      expect(before).toEqual(["1", "2"]);
      expect(await instance.counts()).toMatchObject({ queued: 2 });
      await server.kill();
      await server.start();
      await eventually(() => instance.redis?.status === "ready", "the instance to reconnect");
      expect(await instance.counts()).toEqual({
        queued: 0,
        runningOrLost: 0,
        finished: 0,
        failed: 0,
      });
      // A new job gets id 1 again: anything that remembered job 1 now means another job.
      expect(await instance.enqueue("Noop", {})).toBe("1");
    } finally {
      await instance.close();
    }
  });
});

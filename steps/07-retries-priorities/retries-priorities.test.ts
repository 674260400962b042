import { describe, expect, it, onTestFinished } from "vitest";
import { JobTimeoutError } from "../../lib/jobs/errors.ts";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import { Database } from "../../lib/postgres/database.ts";
import type { StepInstance } from "../../lib/step.ts";
import { testDatabaseUrl } from "../../test/services.ts";
import { runStepCommand } from "../../test/support/cli.ts";
import { enqueueAndWait } from "../../test/support/enqueue-and-wait.ts";
import { openForTest } from "../../test/support/open.ts";
import { recordingJobs } from "../../test/support/recording-jobs.ts";
import { eventually, gate, nextEvent, nthEvent } from "../../test/support/waiting.ts";
import { spawnWorker } from "../../test/support/worker-process.ts";
import { backoffDelayMs, DEFAULT_RETRY_BACKOFF, retryDelayMs } from "./backoff.ts";
import { step } from "./index.ts";
import { dispatchDueJobs } from "./scheduled-executions.ts";

/** Short waits, so retries happen within a test. */
const QUICK_BACKOFF = { baseMs: 30, maxMs: 1_000, jitter: 0 };

function database(instance: StepInstance): Database {
  if (!instance.database) throw new Error("Step 07 opened without a database.");
  return instance.database;
}

/** A second pool on the same schema: another process's dispatcher, as far as PostgreSQL can tell. */
function anotherPool(instance: StepInstance): Database {
  const other = new Database({ url: testDatabaseUrl(), schema: instance.namespace, poolSize: 2 });
  onTestFinished(() => other.close());
  return other;
}

describe("step 07 — the backoff schedule", () => {
  it("doubles from the base, is capped, and jitter only ever stretches a wait, by at most `jitter`", () => {
    const none = () => 0;
    const most = () => 0.999_999;
    const schedule = [1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, DEFAULT_RETRY_BACKOFF, none));
    expect(schedule).toEqual([10_000, 20_000, 40_000, 80_000, 160_000]);
    expect(backoffDelayMs(30, DEFAULT_RETRY_BACKOFF, none)).toBe(DEFAULT_RETRY_BACKOFF.maxMs);
    expect(backoffDelayMs(1, DEFAULT_RETRY_BACKOFF, most)).toBe(15_000);
    for (let i = 0; i < 1_000; i++) {
      const wait = backoffDelayMs(3);
      expect(wait).toBeGreaterThanOrEqual(40_000);
      expect(wait).toBeLessThanOrEqual(60_000);
    }
  });

  it("gives no retry after the last attempt, nor for a failure a retry cannot fix", () => {
    expect(retryDelayMs(2, 3, true)).toBeGreaterThan(0);
    expect(retryDelayMs(3, 3, true)).toBeUndefined();
    expect(retryDelayMs(1, 3, false)).toBeUndefined();
  });
});

describe("step 07 — retries and the dead queue", () => {
  it("retries a failing job with growing waits, then puts it in the dead queue with its error, stack and attempts", async () => {
    const instance = await openForTest(step, "dead");
    const attempts: { attempt: number; at: number }[] = [];
    const registry = new JobRegistry([
      defineJob({
        name: "Broken",
        description: "always throws",
        exampleArguments: {},
        maxAttempts: 4,
        perform(_args, { attempt }) {
          attempts.push({ attempt, at: Date.now() });
          throw new TypeError(`cannot read the invoice (attempt ${attempt})`);
        },
      }),
    ]);
    const retrying: number[] = [];
    instance.events.on("retrying", (e) => retrying.push(e.attempt));
    const worker = instance.startWorker({
      registry,
      retryBackoff: { baseMs: 100, maxMs: 10_000, jitter: 0 },
      dispatchIntervalMs: 20,
    });
    const id = await enqueueAndWait(instance, "failed", "Broken", {}, 20_000);
    await worker.stop();
    expect(attempts.map((run) => run.attempt)).toEqual([1, 2, 3, 4]);
    expect(retrying).toEqual([1, 2, 3]);
    // The waits were 100, 200, 400 ms: each gap at least its backoff.
    const gaps = attempts.slice(1).map((run, i) => run.at - (attempts[i]?.at ?? 0));
    for (const [i, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual(100 * 2 ** i - 5);
    const [dead, ...others] = (await instance.failedJobs?.()) ?? [];
    expect(others).toEqual([]);
    expect(dead).toMatchObject({
      jobId: id,
      name: "Broken",
      attempts: 4,
      error: "TypeError: cannot read the invoice (attempt 4)",
    });
    expect(dead?.stack).toMatch(
      /TypeError: cannot read the invoice[\s\S]*retries-priorities\.test\.ts/,
    );
    expect(await instance.counts()).toEqual({
      ready: 0,
      scheduled: 0,
      claimed: 0,
      finished: 0,
      failed: 1,
    });
  });

  it("a job retried from the dead queue runs again with a fresh set of attempts; ids not there are skipped", async () => {
    const instance = await openForTest(step, "revive");
    let fixed = false;
    const seen: number[] = [];
    const registry = new JobRegistry([
      defineJob({
        name: "NeedsAFix",
        description: "throws until the test fixes it",
        exampleArguments: {},
        maxAttempts: 2,
        perform(_args, { attempt }) {
          seen.push(attempt);
          if (!fixed) throw new Error("the API key expired");
        },
      }),
    ]);
    const worker = instance.startWorker({
      registry,
      retryBackoff: QUICK_BACKOFF,
      dispatchIntervalMs: 20,
    });
    const id = await enqueueAndWait(instance, "failed", "NeedsAFix", {}, 20_000);
    fixed = true;
    const ranAgain = nextEvent(instance.events, "finished", (e) => e.jobId === id);
    expect(await instance.retryFailedJobs?.([id, "999999"])).toEqual([id]);
    await ranAgain;
    await worker.stop();
    expect(seen).toEqual([1, 2, 1]);
    expect(await instance.retryFailedJobs?.([id])).toEqual([]);
    expect(await instance.failedJobs?.()).toEqual([]);
    expect(await instance.counts()).toMatchObject({ finished: 1, failed: 0 });
    await expect(instance.retryFailedJobs?.(["7; DROP TABLE jobs"])).rejects.toThrow(
      /is not a job id/,
    );
  });

  it("sends a job with an unknown name to the dead queue at once: no retry can teach the worker its name", async () => {
    const instance = await openForTest(step, "unknown");
    const { registry } = recordingJobs();
    const worker = instance.startWorker({ registry, retryBackoff: QUICK_BACKOFF });
    const id = await enqueueAndWait(instance, "failed", "NotRegistered", {});
    await worker.stop();
    expect(await instance.failedJobs?.()).toMatchObject([{ jobId: id, attempts: 1 }]);
  });
});

describe("step 07 — scheduled jobs and the dispatcher", () => {
  it("runs a scheduled job no earlier than it is due, and one due in the past at once", async () => {
    const instance = await openForTest(step, "later");
    const { registry } = recordingJobs();
    // Date.now() inside perform: the same wall clock runAt is read from.
    const ranAt = new Map<string, number>();
    registry.register(
      defineJob({
        name: "NoteTheTime",
        description: "remembers when it ran",
        exampleArguments: {},
        perform(_args, { jobId }) {
          ranAt.set(jobId, Date.now());
        },
      }),
    );
    const worker = instance.startWorker({ registry, dispatchIntervalMs: 20 });
    const runAt = new Date(Date.now() + 700);
    const laterId = await instance.enqueue("NoteTheTime", {}, { runAt });
    expect(await instance.counts()).toMatchObject({ scheduled: 1, ready: 0 });
    const finished = nextEvent(instance.events, "finished", (e) => e.jobId === laterId, 10_000);
    const pastId = await enqueueAndWait(instance, "finished", "NoteTheTime", {}, 10_000, {
      runAt: new Date(Date.now() - 60_000),
    });
    await finished;
    await worker.stop();
    expect(ranAt.get(laterId)).toBeGreaterThanOrEqual(runAt.getTime());
    expect(ranAt.get(pastId)).toBeLessThan(runAt.getTime());
  });

  it("two dispatchers moving 1,000 due jobs at once move each exactly once", async () => {
    const instance = await openForTest(step, "dispatch2");
    const runAt = new Date(Date.now() + 300);
    await instance.enqueueMany(
      Array.from({ length: 1_000 }, (_, i) => ({ name: "Noop", args: { i }, runAt })),
    );
    const pools = [database(instance), anotherPool(instance)];
    await eventually(async () => {
      const [row] = await database(instance).query<{ due: boolean }>(
        "SELECT min(scheduled_at) <= now() AS due FROM scheduled_executions",
      );
      return row?.due === true;
    }, "the jobs to be due");
    const movedBy = await Promise.all(
      pools.map(async (pool) => {
        let moved = 0;
        for (;;) {
          const batch = await dispatchDueJobs(pool, 25);
          moved += batch.moved;
          if (batch.moved === 0 && batch.nextDueInMs === null) return moved;
        }
      }),
    );
    expect(movedBy.reduce((sum, moved) => sum + moved, 0)).toBe(1_000);
    expect(await instance.counts()).toMatchObject({ ready: 1_000, scheduled: 0 });
  });

  it("a dispatcher skips the rows another one has locked, without waiting, and they are moved once after", async () => {
    const instance = await openForTest(step, "skiplocked");
    const ids = await instance.enqueueMany(
      Array.from({ length: 10 }, () => ({ name: "Noop", runAt: new Date(Date.now() + 200) })),
    );
    await eventually(
      async () => ((await dispatchDueJobs(database(instance), 0)).nextDueInMs ?? 1) <= 0,
      "due",
    );
    // Another dispatcher, mid-dispatch: it holds locks on the first three rows.
    const other = anotherPool(instance);
    const locked = gate();
    const release = gate();
    const holding = other.transaction(async (tx) => {
      await tx.query(
        "SELECT job_id FROM scheduled_executions WHERE job_id = ANY($1::bigint[]) FOR UPDATE",
        [ids.slice(0, 3)],
      );
      locked.open();
      await release.opened;
      throw new Error("roll back: this dispatcher moved nothing after all");
    });
    await locked.opened;
    const first = await dispatchDueJobs(database(instance), 100);
    expect(first.moved).toBe(7);
    release.open();
    await expect(holding).rejects.toThrow(/roll back/);
    expect((await dispatchDueJobs(database(instance), 100)).moved).toBe(3);
    expect(await instance.counts()).toMatchObject({ ready: 10, scheduled: 0 });
  });
});

describe("step 07 — priorities and named queues", () => {
  it("an urgent job overtakes a backlog; equal priorities go oldest first", async () => {
    const instance = await openForTest(step, "urgent");
    const { registry, received } = recordingJobs();
    const backlog = await instance.enqueueMany(
      Array.from({ length: 20 }, (_, i) => ({ name: "Record", args: { i } })),
    );
    const urgent = await instance.enqueue("Record", { urgent: true }, { priority: 0 });
    const lessUrgent = await instance.enqueue("Record", { urgent: "less" }, { priority: 50 });
    const worker = instance.startWorker({ registry });
    await eventually(() => received.length === 22, "all 22 jobs to run");
    await worker.stop();
    expect(received.map((run) => run.jobId)).toEqual([urgent, lessUrgent, ...backlog]);
  });

  it("a worker takes jobs only from its queues; between queues, the order it lists them decides", async () => {
    const instance = await openForTest(step, "queues");
    const { registry, received } = recordingJobs();
    const urgentDefault = await instance.enqueue("Record", { queue: "default" }, { priority: 0 });
    const report = await instance.enqueue("Record", { queue: "reports" }, { queue: "reports" });
    const mail = await instance.enqueue("Record", { queue: "mail" }, { queue: "mail" });
    const mailWorker = instance.startWorker({ registry, queues: ["mail"] });
    await eventually(() => received.length === 1, "the mail job to run");
    // Another mail job after it: by the time it has run, the worker has
    // looked at the queue again, and still left the other two alone.
    const laterMail = await enqueueAndWait(instance, "finished", "Record", {}, 10_000, {
      queue: "mail",
    });
    await mailWorker.stop();
    expect(received.map((run) => run.jobId)).toEqual([mail, laterMail]);
    expect(await instance.counts()).toMatchObject({ ready: 2, finished: 2 });
    // Listed first, "reports" goes first, although the default queue's job is more urgent.
    const reportsFirst = instance.startWorker({ registry, queues: ["reports", "default"] });
    await eventually(() => received.length === 4, "both remaining jobs to run");
    await reportsFirst.stop();
    expect(received.slice(2).map((run) => run.jobId)).toEqual([report, urgentDefault]);
  });

  it("the claim query walks the claim-order index, and stops after the jobs it takes", async () => {
    const instance = await openForTest(step, "plan");
    await instance.enqueueMany(Array.from({ length: 5_000 }, () => ({ name: "Noop" })));
    await database(instance).query("ANALYZE ready_executions");
    const plan = await database(instance).query<{ "QUERY PLAN": string }>(
      `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
       SELECT job_id FROM ready_executions WHERE queue_name = 'default'
       ORDER BY priority, job_id LIMIT 10 FOR UPDATE SKIP LOCKED`,
    );
    const text = plan.map((row) => row["QUERY PLAN"]).join("\n");
    expect(text).toMatch(/Index Scan using ready_executions_claim_order/);
    expect(text).not.toMatch(/Sort/);
    expect(text).toMatch(/Index Scan.*\(actual rows=10(\.00)? /);
  });
});

describe("step 07 — a job that never returns", () => {
  it("times out: the attempt fails with a timeout error, its slot runs the next job, and its signal aborts", async () => {
    const instance = await openForTest(step, "timeout");
    const { registry, received } = recordingJobs();
    let signal: AbortSignal | undefined;
    registry.register(
      defineJob({
        name: "Hang",
        description: "never returns",
        exampleArguments: {},
        maxAttempts: 1,
        timeoutMs: 150,
        perform(_args, context) {
          signal = context.signal;
          return new Promise(() => {});
        },
      }),
    );
    const hung = await instance.enqueue("Hang", {});
    const next = await instance.enqueue("Record", { after: "the hung job" });
    const failed = nextEvent(instance.events, "failed", (e) => e.jobId === hung);
    const finished = nextEvent(instance.events, "finished", (e) => e.jobId === next);
    const worker = instance.startWorker({ registry, concurrency: 1 });
    expect((await failed).error).toMatch(
      /^JobTimeoutError: Job \d+ did not finish within its timeout of 150 ms/,
    );
    await finished;
    await worker.stop();
    expect(received.map((run) => run.jobId)).toEqual([next]);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(JobTimeoutError);
    expect(await instance.failedJobs?.()).toMatchObject([{ jobId: hung, attempts: 1 }]);
  });

  it("the worker's jobTimeoutMs applies to jobs without a timeout of their own, and a timed-out attempt is retried", async () => {
    const instance = await openForTest(step, "timeout2");
    const registry = new JobRegistry([
      defineJob({
        name: "SlowFirstTime",
        description: "hangs on its first attempt only",
        exampleArguments: {},
        perform: (_args, { attempt, signal }) =>
          attempt === 1
            ? new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()))
            : undefined,
      }),
    ]);
    const retried = nthEvent(instance.events, "started", () => true, 2);
    const worker = instance.startWorker({
      registry,
      jobTimeoutMs: 100,
      retryBackoff: QUICK_BACKOFF,
      dispatchIntervalMs: 20,
    });
    const id = await enqueueAndWait(instance, "finished", "SlowFirstTime", {}, 10_000);
    expect((await retried).jobId).toBe(id);
    await worker.stop();
    expect(await instance.counts()).toMatchObject({ finished: 1, failed: 0 });
  });
});

describe("step 07 — from the command line", () => {
  it("`failed` lists the dead queue with errors, and `retry <id>` puts a job back", async () => {
    const instance = await openForTest(step, "clidead");
    const { registry } = recordingJobs(); // Explode: one attempt
    const worker = instance.startWorker({ registry });
    const id = await enqueueAndWait(instance, "failed", "Explode", { message: "card declined" });
    await worker.stop();
    const listed = await runStepCommand(
      "07",
      "failed",
      "--stacks",
      "--namespace",
      instance.namespace,
    );
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^ *${id} +Explode .* 1 .* Error: card declined$`, "m"),
    );
    expect(listed.stdout).toMatch(/^ +at /m);
    const retried = await runStepCommand(
      "07",
      "retry",
      id,
      "12345",
      "--namespace",
      instance.namespace,
    );
    expect(retried.stdout).toMatch(`Put back to ready, with a fresh set of attempts: ${id}`);
    expect(retried.stdout).toMatch(
      "Not in the dead queue (finished, already retried, or unknown): 12345",
    );
    expect(await instance.counts()).toMatchObject({ ready: 1, failed: 0 });
    const bad = await runStepCommand("07", "retry", "--namespace", instance.namespace);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Give the ids of the jobs to retry, or --all/);
    const older = await runStepCommand("03", "failed", "--namespace", instance.namespace);
    expect(older.code).toBe(2);
    expect(older.stderr).toMatch(/Step 03 has no dead queue/);
  });

  it("`enqueue --in/--priority/--queue` schedules and ranks the job; a step without them refuses", async () => {
    const instance = await openForTest(step, "clienqueue");
    const ns = ["--namespace", instance.namespace];
    const later = await runStepCommand(
      "07",
      "enqueue",
      "Noop",
      "--in",
      "1h",
      "--priority",
      "5",
      "--queue",
      "mail",
      ...ns,
    );
    expect(later.code).toBe(0);
    expect(later.stdout).toMatch(/on queue mail with priority 5, to run at /);
    const [row] = await database(instance).query<{
      queue_name: string;
      priority: number;
      hours: number;
    }>(
      `SELECT queue_name, priority, extract(epoch FROM scheduled_at - now()) / 3600 AS hours
       FROM jobs JOIN scheduled_executions ON job_id = id`,
    );
    expect(row).toMatchObject({ queue_name: "mail", priority: 5 });
    expect(Number(row?.hours)).toBeGreaterThan(0.9);
    const refused = await runStepCommand("03", "enqueue", "Noop", "--priority", "0", ...ns);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /Step 03 has no named queues or priorities \(step 07 adds them\)/,
    );
    const badTime = await runStepCommand("07", "enqueue", "Noop", "--at", "tomorrow", ...ns);
    expect(badTime.code).toBe(2);
  });

  it("a `worker --queues` process serves only its queues, and prints each retry", async () => {
    const instance = await openForTest(step, "cliworker");
    const ordinary = await instance.enqueue("Noop", {});
    const worker = spawnWorker(instance, ["--queues", "mail,reports"]);
    try {
      const failing = await instance.enqueue(
        "AlwaysFails",
        { message: "no" },
        { queue: "reports" },
      );
      await worker.waitForLine(
        new RegExp(`↻ job ${failing} AlwaysFails: attempt 1 failed \\(Error: no\\); retry at `),
      );
      const mail = await instance.enqueue("Noop", {}, { queue: "mail" });
      await worker.waitForLine(new RegExp(`✓ job ${mail} Noop`));
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
    expect(worker.output()).not.toMatch(new RegExp(`job ${ordinary} `));
    expect(await instance.counts()).toMatchObject({ ready: 1, scheduled: 1, finished: 1 });
  }, 30_000);
});

describe("step 07 — reset", () => {
  it("refuses while a live worker is registered, naming it, and the worker goes on; resets once it stopped", async () => {
    const instance = await openForTest(step, "reset");
    const worker = instance.startWorker({ heartbeatIntervalMs: 100, aliveThresholdMs: 1_500 });
    try {
      await eventually(
        async () => ((await instance.processes?.()) ?? []).length === 1,
        "the worker to register",
      );
      await expect(instance.reset()).rejects.toThrow(
        new RegExp(
          `^Not reset: a live process is registered — Worker ${worker.id} \\(pid ${process.pid} `,
        ),
      );
      // Its row is still there: it goes on beating and claiming.
      await enqueueAndWait(instance, "finished", "Noop", {});
    } finally {
      await worker.stop();
    }
    await instance.reset();
    expect(await instance.counts()).toMatchObject({ finished: 0 });
  });
});

/**
 * Step 11's own tests of a slot's life, in one process with jobs that wait
 * for the test: a slot taken from a dead worker is given back once, however
 * many hands reach for it (Solid Queue #761); a retry and a job scheduled
 * for later keep their key and wait for its slot; a worker stopped at its
 * shutdown timeout hands its job back with its slot; a job retried from the
 * dead queue goes back through its key's blocked jobs; an admission that
 * waited for its key's lock counts what the lock's holder took.
 */
import { expect, it } from "vitest";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import type { StepInstance } from "../../lib/step.ts";
import { openForTest } from "../../test/support/open.ts";
import { eventually, gate, nextEvent } from "../../test/support/waiting.ts";
import { insertJobs } from "./enqueue.ts";
import { step } from "./index.ts";
import { pruneDeadProcesses } from "./recovery.ts";
import { dispatchDueJobs } from "./scheduled-executions.ts";

const KEY = { key: "account:1", limit: 1 };

function sql(instance: StepInstance) {
  if (!instance.database) throw new Error("no database");
  return instance.database;
}

/**
 * `Held` jobs, told apart by `{ name }` in their arguments: each run waits
 * for the gate of its name, opened by the test; with `failFirst`, its
 * first run throws.
 */
function heldJobs(names: readonly string[]) {
  const gates = new Map(names.map((name) => [name, gate()]));
  const started: string[] = [];
  const registry = new JobRegistry([
    defineJob<{ name: string; failFirst?: boolean }>({
      name: "Held",
      description: "waits for the test",
      exampleArguments: { name: "a" },
      async perform({ name, failFirst }) {
        started.push(name);
        const runs = started.filter((run) => run === name).length;
        if (failFirst && runs === 1) throw new Error("the first run fails");
        await gates.get(name)?.opened;
      },
    }),
  ]);
  const open = (name: string) => gates.get(name)?.open();
  return { registry, started, open };
}

/** The one key's report: how many jobs hold its slot, and how many are blocked. */
async function slotsOf(instance: StepInstance): Promise<{ admitted: number; blocked: number }> {
  const [report] = (await instance.concurrencyKeys?.()) ?? [];
  return { admitted: report?.admitted ?? 0, blocked: report?.blocked ?? 0 };
}

it("gives a dead worker's slot back once: two pruners at once and the worker's late finish admit one job, not three (Solid Queue #761)", async () => {
  const instance = await openForTest(step, "once");
  const { registry, started, open } = heldJobs(["a", "b", "c"]);
  const [a] = await instance.enqueueMany(
    ["a", "b", "c"].map((name) => ({ name: "Held", args: { name }, concurrency: KEY })),
  );
  // A heartbeat every 30 s: the worker never beats during the test, so only
  // the test decides when it looks dead. Its recovery loop prunes at start
  // only; the retry of `a` is due in a minute, long after the test.
  const worker = instance.startWorker({
    registry,
    concurrency: 3,
    heartbeatIntervalMs: 30_000,
    retryBackoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 },
  });
  await eventually(() => started.includes("a"), "a to start");
  expect(await slotsOf(instance)).toEqual({ admitted: 1, blocked: 2 });

  // The worker looks dead. Two pruners reach for its claim at the same
  // moment: one recovers `a` — its slot given back, `b` admitted — the other
  // finds nothing to do. (A third may be the worker's own recovery loop: its
  // first prune, sent as it started, before it had a row to leave alone, can
  // reach the database after the UPDATE on a busy machine. It says so.)
  const byWorker: string[] = [];
  instance.events.on("recovered", (e) => byWorker.push(`${e.jobId} → ${e.disposition}`));
  await sql(instance).query("UPDATE processes SET last_heartbeat_at = now() - interval '1 day'");
  const policy = { maxAttemptsOf: () => 10, backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 } };
  const pruned = await Promise.all([
    pruneDeadProcesses(sql(instance), { policy }),
    pruneDeadProcesses(sql(instance), { policy }),
  ]);
  const byTest = pruned
    .flat()
    .flatMap((dead) => dead.jobs.map((job) => `${job.jobId} → ${job.disposition}`));
  await eventually(() => byTest.length + byWorker.length > 0, "a pruner to recover a");
  expect([...byTest, ...byWorker]).toEqual([`${a} → retry`]);
  // The worker is alive after all: it registers again and runs `b`.
  await eventually(() => started.includes("b"), "b to start");

  // Now `a` ends on the worker taken for dead. Its claim is gone: nothing
  // is recorded, and no slot is given back a second time.
  const superseded = nextEvent(instance.events, "superseded", (e) => e.jobId === a);
  open("a");
  await superseded;
  expect(await slotsOf(instance)).toEqual({ admitted: 1, blocked: 1 });
  expect(started).toEqual(["a", "b"]);

  open("b");
  await eventually(() => started.includes("c"), "c to start once b is done");
  expect(await slotsOf(instance)).toEqual({ admitted: 1, blocked: 0 });
  open("c");
  await eventually(async () => (await instance.counts()).finished === 2, "c to finish");
  await worker.stop();
  expect(await instance.counts()).toMatchObject({ scheduled: 1, blocked: 0, ready: 0 });
});

it("a retry and a job scheduled for later keep their key: each waits for the key's slot, and runs in job order", async () => {
  const instance = await openForTest(step, "keep");
  const { registry, started, open } = heldJobs(["flaky", "holder", "later"]);
  await instance.enqueue("Held", { name: "flaky", failFirst: true }, { concurrency: KEY });
  await instance.enqueue("Held", { name: "holder" }, { concurrency: KEY });
  const worker = instance.startWorker({
    registry,
    concurrency: 3,
    dispatchIntervalMs: 10,
    retryBackoff: { baseMs: 10, maxMs: 10, jitter: 0 },
  });
  // `flaky` fails; waiting for its retry it holds no slot, so `holder` runs.
  await eventually(() => started.includes("holder"), "holder to start after flaky failed");
  await instance.enqueue(
    "Held",
    { name: "later" },
    { concurrency: KEY, runAt: new Date(Date.now() + 50) },
  );
  // Both come due while `holder` runs, and wait for its slot.
  await eventually(
    async () => (await instance.counts()).scheduled === 0,
    "the retry and the scheduled job to come due",
  );
  expect(await slotsOf(instance)).toEqual({ admitted: 1, blocked: 2 });
  expect(started).toEqual(["flaky", "holder"]);

  open("holder");
  await eventually(() => started.length === 3, "the retry to start");
  expect(await slotsOf(instance)).toEqual({ admitted: 1, blocked: 1 });
  open("flaky");
  await eventually(() => started.length === 4, "the scheduled job to start");
  open("later");
  await eventually(async () => (await instance.counts()).finished === 3, "all three to finish");
  await worker.stop();
  expect(started).toEqual(["flaky", "holder", "flaky", "later"]);
});

it("a worker stopped at its shutdown timeout hands its job back with its slot: nothing else of the key is admitted", async () => {
  const instance = await openForTest(step, "handback");
  const { registry, started, open } = heldJobs(["a", "b"]);
  const [a] = await instance.enqueueMany(
    ["a", "b"].map((name) => ({ name: "Held", args: { name }, concurrency: KEY })),
  );
  const stopping = instance.startWorker({ registry, shutdownTimeoutMs: 0 });
  await eventually(() => started.includes("a"), "a to start");
  const released = nextEvent(instance.events, "released", (e) => e.jobId === a);
  await stopping.stop();
  await released;
  // `a` is ready again, holding the key's one slot; `b` still waits.
  expect(await slotsOf(instance)).toEqual({ admitted: 1, blocked: 1 });
  expect(await instance.counts()).toMatchObject({ ready: 1, claimed: 0, blocked: 1 });

  const next = instance.startWorker({ registry });
  await eventually(() => started.length === 2, "a to start again");
  open("a"); // both runs of `a` end: the first records nothing, the second finishes
  await eventually(() => started.length === 3, "b to start");
  open("b");
  await eventually(async () => (await instance.counts()).finished === 2, "a and b to finish");
  await next.stop();
  expect(started).toEqual(["a", "a", "b"]);
});

it("a job retried from the dead queue goes back through its key's blocked jobs", async () => {
  const instance = await openForTest(step, "revive");
  const { registry, started, open } = heldJobs(["dead", "holder"]);
  const dead = await instance.enqueue(
    "Held",
    { name: "dead", failFirst: true },
    { concurrency: KEY },
  );
  // One attempt only: the failure buries it.
  const buried = nextEvent(instance.events, "failed", (e) => e.jobId === dead);
  const worker = instance.startWorker({
    registry: new JobRegistry(registry.definitions().map((job) => ({ ...job, maxAttempts: 1 }))),
  });
  await buried;
  await instance.enqueue("Held", { name: "holder" }, { concurrency: KEY });
  await eventually(() => started.includes("holder"), "holder to start");
  expect(await instance.retryFailedJobs?.([dead])).toEqual([dead]);
  expect(await slotsOf(instance)).toEqual({ admitted: 1, blocked: 1 });
  open("holder");
  await eventually(() => started.length === 3, "the revived job to start");
  open("dead");
  await eventually(async () => (await instance.counts()).finished === 2, "both to finish");
  await worker.stop();
});

it("an admission that waits for its key's lock counts the slot the lock's holder took: a due job and an enqueue at once fill one slot, not two", async () => {
  const instance = await openForTest(step, "waited");
  const database = sql(instance);
  // `due` is scheduled for a moment from now; it comes due with the key's
  // one slot free.
  const due = await instance.enqueue(
    "Noop",
    {},
    { concurrency: KEY, runAt: new Date(Date.now() + 50) },
  );
  await eventually(async () => {
    const [row] = await database.query<{ due: boolean }>(
      "SELECT scheduled_at <= now() AS due FROM scheduled_executions WHERE job_id = $1",
      [due],
    );
    return row?.due === true;
  }, "the scheduled job to come due");

  // An enqueue, in a transaction the test holds open: it locks the key,
  // admits its job to the free slot, and has not committed yet.
  const commit = gate();
  const enqueuedWithTheLock = gate();
  let holder = 0;
  const enqueue = database.transaction(async (tx) => {
    await insertJobs(tx, [{ name: "Noop", concurrency: KEY }]);
    const [row] = await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    holder = row?.pid ?? 0;
    enqueuedWithTheLock.open();
    await commit.opened;
  });
  await enqueuedWithTheLock.opened;

  // The dispatcher moves `due` to its key's blocked jobs and admits: it
  // waits for the enqueue's lock on the key. Only then does the enqueue
  // commit (at once if the dispatch never waits, so that the test fails
  // rather than hangs).
  const dispatch = dispatchDueJobs(database, 10);
  try {
    await eventually(async () => {
      const [row] = await database.query<{ waiting: number }>(
        "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
        [holder],
      );
      return (row?.waiting ?? 0) > 0;
    }, "the dispatch to wait for the enqueue's lock on the key");
  } finally {
    commit.open();
    await enqueue;
  }
  expect(await dispatch).toMatchObject({ moved: 1 });

  // The dispatch counted once the lock was its own: the enqueued job holds
  // the one slot, and `due` waits for it.
  expect(await slotsOf(instance)).toEqual({ admitted: 1, blocked: 1 });
  const [blocked] = await database.query<{ job_id: string }>(
    "SELECT job_id FROM blocked_executions",
  );
  expect(blocked?.job_id).toBe(due);
});

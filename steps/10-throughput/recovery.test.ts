/**
 * Step 08's own tests, against step 10: pruning a dead process sends its
 * jobs through the retry path, and a second death to the dead queue; two
 * pruners never recover one process twice; a claim cannot outlive its
 * process row, and what died while nothing ran is recovered at start; a
 * worker taken for dead registers again and records nothing when its job
 * ends late; a supervisor's word that a worker exited is enough; a stopping
 * worker releases what outlives its shutdown timeout, and says so of an
 * outcome it could not record.
 *
 * One differs from 08's: step 10 has no foreign key from a claim to its
 * process (schema.sql), so what keeps a process's row while a claim is left
 * is its deregistering, which refuses (processes.ts), not the key.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import type { ProcessReport, StepInstance } from "../../lib/step.ts";
import { enqueueAndWait } from "../../test/support/enqueue-and-wait.ts";
import { openForTest } from "../../test/support/open.ts";
import { eventually, gate, nextEvent, nthEvent } from "../../test/support/waiting.ts";
import { quickJob, waitingJob } from "../../test/support/waiting-job.ts";
import { spawnWorker } from "../../test/support/worker-process.ts";
import { step } from "./index.ts";
import { deregisterProcess } from "./processes.ts";
import { pruneDeadProcesses } from "./recovery.ts";
import { dispatchDueJobs } from "./scheduled-executions.ts";

const POLICY = { maxAttemptsOf: () => 2, backoff: { baseMs: 20, maxMs: 100, jitter: 0 } };
const QUICK_BACKOFF = { baseMs: 20, maxMs: 100, jitter: 0 };

function sql(instance: StepInstance) {
  if (!instance.database) throw new Error("no database");
  return instance.database;
}

/**
 * Starts a worker process, waits until it runs job `id`, kills it with
 * SIGKILL, and ages its heartbeat past its threshold, as the minute it
 * would take.
 */
async function killWhileRunning(instance: StepInstance, id: string): Promise<void> {
  const crashing = spawnWorker(instance);
  await crashing.waitForLine(new RegExp(`▶ job ${id} Sleep`));
  crashing.child.kill("SIGKILL");
  await crashing.exited;
  await age(instance, crashing.child.pid);
}

/** Makes the heartbeat of the process with `pid` a day old. */
async function age(instance: StepInstance, pid: number | undefined): Promise<void> {
  await sql(instance).query(
    "UPDATE processes SET last_heartbeat_at = now() - interval '1 day' WHERE pid = $1",
    [pid],
  );
}

describe("step 08 — recovery", () => {
  it("a SIGKILLed worker's job goes back through the retry path; the next death sends it to the dead queue", async () => {
    const instance = await openForTest(step, "prune");
    const id = await instance.enqueue("Sleep", { ms: 600_000 });
    await killWhileRunning(instance, id);
    expect(await pruneDeadProcesses(sql(instance), { policy: POLICY })).toMatchObject([
      { jobs: [{ jobId: id, name: "Sleep", disposition: "retry" }] },
    ]);
    expect(await instance.counts()).toMatchObject({ claimed: 0, scheduled: 1 });
    // Its retry comes due after the backoff; the dispatcher makes it ready.
    await eventually(
      async () => (await dispatchDueJobs(sql(instance), 10)).moved === 1,
      "the retry to be dispatched",
    );
    await killWhileRunning(instance, id);
    expect(await pruneDeadProcesses(sql(instance), { policy: POLICY })).toMatchObject([
      { jobs: [{ jobId: id, disposition: "dead" }] },
    ]);
    const [dead] = (await instance.failedJobs?.()) ?? [];
    expect(dead).toMatchObject({ jobId: id, attempts: 2 });
    expect(dead?.error).toMatch(/^ProcessDiedError: process \d+ .* died while running this job$/);
    expect(await instance.processes?.()).toEqual([]);
  }, 60_000);

  it("two pruners at once recover a dead process once", async () => {
    const instance = await openForTest(step, "twice");
    const id = await instance.enqueue("Sleep", { ms: 600_000 });
    await killWhileRunning(instance, id);
    const passes = await Promise.all(
      Array.from({ length: 4 }, () => pruneDeadProcesses(sql(instance), { policy: POLICY })),
    );
    expect(passes.flat().flatMap((pass) => pass.jobs)).toEqual([
      { jobId: id, name: "Sleep", disposition: "retry" },
    ]);
    expect(await instance.counts()).toMatchObject({ claimed: 0, scheduled: 1 });
  }, 60_000);

  it("a claim cannot outlive its process row; a worker starting recovers what died while nothing ran", async () => {
    const instance = await openForTest(step, "start");
    const id = await instance.enqueue("Sleep", { ms: 600_000 });
    await killWhileRunning(instance, id);
    // No orphans: a process whose claim is left cannot deregister; its row stays.
    const [dead] = await sql(instance).query<{ id: string }>("SELECT id FROM processes");
    await expect(deregisterProcess(sql(instance), dead?.id ?? "")).rejects.toThrow(
      /still holds 1 claim: its row stays/,
    );
    expect(await sql(instance).query("SELECT id FROM processes")).toEqual([dead]);
    const recovered = nextEvent(instance.events, "recovered", (e) => e.jobId === id);
    const worker = instance.startWorker({ retryBackoff: QUICK_BACKOFF });
    expect(await recovered).toMatchObject({ disposition: "retry", name: "Sleep" });
    await worker.stop();
  }, 60_000);

  it("a worker taken for dead registers again; its late finish leaves the rerun's claim alone", async () => {
    const instance = await openForTest(step, "late");
    const firstRunMayEnd = gate();
    const secondRunMayEnd = gate();
    let runs = 0;
    const registry = new JobRegistry([
      defineJob({
        name: "Slow",
        description: "",
        exampleArguments: {},
        perform: () => (++runs === 1 ? firstRunMayEnd.opened : secondRunMayEnd.opened),
      }),
    ]);
    const id = await instance.enqueue("Slow", {});
    const startedOnce = nthEvent(instance.events, "started", (e) => e.jobId === id, 1);
    const startedTwice = nthEvent(instance.events, "started", (e) => e.jobId === id, 2);
    const worker = instance.startWorker({
      registry,
      concurrency: 2,
      heartbeatIntervalMs: 50,
      dispatchIntervalMs: 20,
      retryBackoff: QUICK_BACKOFF,
    });
    await startedOnce;
    const [first] = await sql(instance).query<{ id: string }>("SELECT id FROM processes");
    // It is taken for dead, as after a long pause: its row deleted, its job
    // sent to be retried. It notices, registers again, and — the retry being
    // due — claims and runs the job a second time. (Its alive threshold is
    // made negative rather than its heartbeat aged: a beat every 50 ms would
    // make an aged heartbeat young again before the prune reads it.)
    await sql(instance).query("UPDATE processes SET alive_threshold = interval '-1 day'");
    // Pruned by the test — or by the worker's own recovery loop, whose first
    // prune, sent as it started, before it had a row to leave alone, can
    // reach the database after this UPDATE on a busy machine. And a beat in
    // flight holds the row's lock, which a prune skips (SKIP LOCKED: a
    // process beating this moment is not dead); with a beat every 50 ms, a
    // prune now and then lands on one. So: prune until the row is gone.
    await eventually(async () => {
      await pruneDeadProcesses(sql(instance), { policy: POLICY });
      const rows = await sql(instance).query("SELECT 1 FROM processes WHERE id = $1", [first?.id]);
      return rows.length === 0;
    }, "the worker's row to be pruned");
    await startedTwice;
    // Now the first run ends. Its finish must not take the second run's claim.
    const superseded = nextEvent(instance.events, "superseded", (e) => e.jobId === id);
    firstRunMayEnd.open();
    expect(await superseded).toMatchObject({ status: "finished" });
    expect(await instance.counts()).toMatchObject({ claimed: 1, finished: 0 });
    const finished = nextEvent(instance.events, "finished", (e) => e.jobId === id);
    secondRunMayEnd.open();
    await finished;
    expect(await instance.counts()).toMatchObject({ claimed: 0, finished: 1 });
    await worker.stop();
    expect(await instance.processes?.()).toEqual([]);
  });

  it("prunes at once a worker its supervisor saw exit, and only that supervisor's", async () => {
    const instance = await openForTest(step, "exited");
    const [supervisor] = await sql(instance).query<{ id: string }>(
      `INSERT INTO processes (kind, name, pid, hostname, alive_threshold)
       VALUES ('Supervisor', 'supervisor', 1, 'here', '1 minute') RETURNING id`,
    );
    // Two live-looking workers with the same pid: one started by that
    // supervisor, one by another (on another machine, say).
    await sql(instance).query(
      `INSERT INTO processes (kind, name, pid, hostname, supervisor_id, alive_threshold)
       VALUES ('Worker', 'ours', 4242, 'here', $1, '1 minute'),
              ('Worker', 'theirs', 4242, 'there', NULL, '1 minute')`,
      [supervisor?.id],
    );
    const recovered = await pruneDeadProcesses(sql(instance), {
      policy: POLICY,
      self: supervisor?.id,
      exited: { supervisorId: supervisor?.id ?? "", pids: [4242] },
    });
    expect(recovered.map((process_) => process_.name)).toEqual(["ours"]);
    expect((await instance.processes?.())?.map((process_) => process_.name)).toEqual([
      "supervisor",
      "theirs",
    ]);
    await sql(instance).query("DELETE FROM processes"); // rows of no process: reset would refuse
  });

  it("a supervisor taken for dead registers again, and the worker it starts next registers under its new row and runs jobs", async () => {
    const instance = await openForTest(step, "supervisor");
    const supervisor = spawnWorker(instance, [
      "--processes",
      "1",
      "--heartbeat-interval",
      "100",
      "--alive-threshold",
      "5000",
    ]);
    /** Waits until a registered process matches, and returns it. */
    async function processWhere(
      matches: (process_: ProcessReport) => boolean,
      description: string,
    ): Promise<ProcessReport> {
      let found: ProcessReport | undefined;
      await eventually(
        async () => {
          found = ((await instance.processes?.()) ?? []).find(matches);
          return found !== undefined;
        },
        description,
        30_000,
      );
      if (!found) throw new Error(`no ${description}`);
      return found;
    }
    const before = await processWhere((p) => p.kind === "Supervisor", "the supervisor's row");
    const first = await processWhere((p) => p.kind === "Worker", "its first worker");
    // Taken for dead — silent past its threshold, say the database was away —
    // and pruned: its row goes (it holds no claims to move).
    await sql(instance).query("DELETE FROM processes WHERE id = $1", [before.id]);
    await supervisor.waitForLine(/taken for dead and pruned/, 10_000);
    const after = await processWhere(
      (p) => p.kind === "Supervisor" && p.id !== before.id,
      "the supervisor's new row",
    );
    process.kill(first.pid, "SIGKILL");
    await processWhere(
      (p) => p.kind === "Worker" && p.pid !== first.pid && p.supervisorId === after.id,
      "the replacement worker, under the supervisor's new row",
    );
    await instance.enqueue("Noop", {});
    await eventually(
      async () => (await instance.counts()).finished === 1,
      "the job to finish",
      20_000,
    );
  }, 90_000);

  it("a stopping worker lets running jobs finish for its shutdown timeout, then releases the rest to ready", async () => {
    const instance = await openForTest(step, "release");
    const { definition, release: never } = waitingJob("Stuck");
    const stuck = await instance.enqueue("Stuck", {});
    const quick = await instance.enqueue("Quick", {});
    const started = nextEvent(instance.events, "started", (e) => e.jobId === stuck);
    const finished = nextEvent(instance.events, "finished", (e) => e.jobId === quick);
    const released = nextEvent(instance.events, "released", (e) => e.jobId === stuck);
    const worker = instance.startWorker({
      registry: new JobRegistry([definition, quickJob()]),
      concurrency: 2,
      shutdownTimeoutMs: 200,
    });
    await Promise.all([started, finished]);
    await worker.stop();
    await released;
    expect(await instance.counts()).toMatchObject({ ready: 1, claimed: 0, finished: 1 });
    const [job] = await sql(instance).query<{ attempts: number }>(
      "SELECT attempts FROM jobs WHERE id = $1",
      [stuck],
    );
    expect(job?.attempts).toBe(0);
    // The abandoned attempt ends later: its finish finds no claim and changes nothing.
    const superseded = nextEvent(instance.events, "superseded", (e) => e.jobId === stuck);
    never.open();
    await superseded;
    expect(await instance.counts()).toMatchObject({ ready: 1, finished: 1 });
    expect(await instance.processes?.()).toEqual([]);
  });

  it("a stopping worker that could not record a job's outcome by its shutdown timeout says so, and hands the job back", async () => {
    const instance = await openForTest(step, "unrecorded");
    // The database is up, but refuses to mark a job finished: the worker
    // tries again and again, until the stop gives up.
    await sql(instance).query(
      `CREATE FUNCTION refuse_finish() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'finishing refused by the test'; END $$`,
    );
    await sql(instance).query(
      `CREATE TRIGGER refuse_finish BEFORE UPDATE OF finished_at ON jobs
       FOR EACH ROW WHEN (NEW.finished_at IS NOT NULL) EXECUTE FUNCTION refuse_finish()`,
    );
    const id = await instance.enqueue("Quick", {});
    const refused = nextEvent(instance.events, "workerError", (e) =>
      e.error.includes("finishing refused by the test"),
    );
    const worker = instance.startWorker({
      registry: new JobRegistry([quickJob()]),
      shutdownTimeoutMs: 200,
    });
    await refused;
    const released = nextEvent(instance.events, "released", (e) => e.jobId === id);
    await worker.stop();
    expect(await released).toMatchObject({ reason: "outcome not recorded" });
    expect(await instance.counts()).toMatchObject({ ready: 1, claimed: 0, finished: 0 });
    expect(await instance.processes?.()).toEqual([]);
  });
});

describe("step 08 — reset", () => {
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

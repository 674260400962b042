/**
 * Step 06's own tests: registration, heartbeats, deregistration and the
 * supervisor. (That a worker killed with SIGKILL is reported dead within its
 * threshold is enforced for every step that declares it by the contract
 * suite, dead-workers.test.ts; that its job still never runs again is
 * demonstrated there too, worker-crash.test.ts.)
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it, onTestFinished } from "vitest";
import type { ProcessReport, StepInstance } from "../../lib/step.ts";
import { enqueueAndWait } from "../../test/support/enqueue-and-wait.ts";
import { openForTest } from "../../test/support/open.ts";
import { startPrivatePostgres } from "../../test/support/private-postgres.ts";
import { recordingJobs } from "../../test/support/recording-jobs.ts";
import { eventually, nextEvent } from "../../test/support/waiting.ts";
import { spawnWorker } from "../../test/support/worker-process.ts";
import { HeartbeatSettingsError } from "./heartbeat.ts";
import { step } from "./index.ts";

/** Short, so the tests take a second or two, not minutes. */
const FAST = { heartbeatIntervalMs: 100, aliveThresholdMs: 1_500 };
const FAST_FLAGS = ["--heartbeat-interval", "100", "--alive-threshold", "1500"];

async function processes(instance: StepInstance): Promise<readonly ProcessReport[]> {
  if (!instance.processes) throw new Error("step 06 reports no processes");
  return instance.processes();
}

async function lastHeartbeat(instance: StepInstance, processId: string): Promise<Date> {
  const [row] =
    (await instance.database?.query<{ last_heartbeat_at: Date }>(
      "SELECT last_heartbeat_at FROM processes WHERE id = $1",
      [processId],
    )) ?? [];
  if (!row) throw new Error(`no process row ${processId}`);
  return row.last_heartbeat_at;
}

/** Whether a process with this pid exists on this machine. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("step 06 — heartbeats", () => {
  it("a worker registers on start and its heartbeat advances every interval", async () => {
    const instance = await openForTest(step, "beat");
    const worker = instance.startWorker({ ...FAST, name: "beating" });
    let row: ProcessReport | undefined;
    await eventually(async () => {
      row = (await processes(instance)).find((p) => p.name === "beating");
      return row !== undefined;
    }, "the worker to register");
    if (!row) throw new Error("unreachable");
    expect(row).toMatchObject({ kind: "Worker", pid: process.pid, alive: true });
    expect(row.aliveThresholdMs).toBe(1_500);
    const first = await lastHeartbeat(instance, row.id);
    const id = row.id;
    await eventually(async () => (await lastHeartbeat(instance, id)) > first, "a second heartbeat");
    const second = await lastHeartbeat(instance, id);
    await eventually(async () => (await lastHeartbeat(instance, id)) > second, "a third heartbeat");
    await worker.stop();
  });

  it("a cleanly stopped worker deregisters: in this process, and a worker process sent SIGTERM", async () => {
    const instance = await openForTest(step, "dereg");
    const inProcess = instance.startWorker({ ...FAST, name: "polite" });
    const child = spawnWorker(instance, FAST_FLAGS);
    await eventually(
      async () => (await processes(instance)).length === 2,
      "both workers to register",
      20_000,
    );
    await inProcess.stop();
    child.child.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(await processes(instance)).toEqual([]);
  }, 30_000);

  it("a worker killed with SIGKILL goes stale and is reported dead; its claims still point at it", async () => {
    const instance = await openForTest(step, "stale");
    const crashing = spawnWorker(instance, [...FAST_FLAGS, "--concurrency", "2"]);
    const ids = await instance.enqueueMany([
      { name: "Sleep", args: { ms: 600_000 } },
      { name: "Sleep", args: { ms: 600_000 } },
    ]);
    for (const id of ids) await crashing.waitForLine(new RegExp(`▶ job ${id} Sleep`));
    crashing.child.kill("SIGKILL");
    await crashing.exited;
    await eventually(
      async () => (await processes(instance)).every((p) => !p.alive),
      "the killed worker to be reported dead",
    );
    const [dead] = await processes(instance);
    expect(dead).toMatchObject({ pid: crashing.child.pid, alive: false });
    expect(dead?.heartbeatAgeMs).toBeGreaterThan(1_500);
    // Noticed — and nothing more: its jobs are still claimed, by it.
    const claims =
      (await instance.database?.query<{ job_id: string; process_id: string }>(
        "SELECT job_id, process_id FROM claimed_executions ORDER BY job_id",
      )) ?? [];
    expect(claims).toEqual(ids.map((job_id) => ({ job_id, process_id: dead?.id })));
  }, 30_000);

  it("refuses an alive threshold that is not longer than the heartbeat interval", async () => {
    const instance = await openForTest(step, "settings");
    expect(() =>
      instance.startWorker({ heartbeatIntervalMs: 1_000, aliveThresholdMs: 1_000 }),
    ).toThrow(HeartbeatSettingsError);
  });
});

describe("step 06 — the supervisor", () => {
  it("restarts a worker process killed with SIGKILL, and passes SIGTERM on to its workers", async () => {
    const instance = await openForTest(step, "supervisor");
    const supervisor = spawnWorker(instance, ["--processes", "2", ...FAST_FLAGS]);
    try {
      let workers: readonly ProcessReport[] = [];
      await eventually(
        async () => {
          workers = (await processes(instance)).filter((p) => p.kind === "Worker");
          return workers.length === 2;
        },
        "two worker processes to register",
        20_000,
      );
      const supervisorRow = (await processes(instance)).find((p) => p.kind === "Supervisor");
      expect(supervisorRow?.pid).toBe(supervisor.child.pid);
      for (const worker of workers) expect(worker.supervisorId).toBe(supervisorRow?.id);
      const [victim, survivor] = workers;
      if (!victim || !survivor) throw new Error("unreachable");

      process.kill(victim.pid, "SIGKILL");
      await supervisor.waitForLine(
        new RegExp(`worker ${victim.pid} exited unexpectedly \\(SIGKILL\\)`),
      );
      let replacement: ProcessReport | undefined;
      await eventually(
        async () => {
          replacement = (await processes(instance)).find(
            (p) => p.kind === "Worker" && p.id !== victim.id && p.id !== survivor.id,
          );
          return replacement?.alive === true;
        },
        "a replacement worker to register",
        20_000,
      );
      expect(replacement?.supervisorId).toBe(supervisorRow?.id);
      // The replacement works: a job enqueued now runs.
      const id = await instance.enqueue("Noop", {});
      await supervisor.waitForLine(new RegExp(`✓ job ${id} Noop`));

      supervisor.child.kill("SIGTERM");
      expect(await supervisor.exited).toEqual({ code: 0, signal: null });
      // Both live workers got the signal, stopped and deregistered; so did
      // the supervisor. Only the killed worker's row is left, to go stale.
      expect(running(survivor.pid)).toBe(false);
      expect(running(replacement?.pid ?? 0)).toBe(false);
      const left = await processes(instance);
      expect(left.map((p) => p.id)).toEqual([victim.id]);
      expect(left[0]?.supervisorId).toBeNull();
    } finally {
      if (supervisor.child.exitCode === null && supervisor.child.signalCode === null) {
        supervisor.child.kill("SIGTERM");
        await supervisor.exited;
      }
    }
  }, 60_000);
});

describe("step 06 — a PostgreSQL restart", () => {
  it("a heartbeat that fails while the server is down is retried, not fatal", async () => {
    const server = await startPrivatePostgres();
    const instance = await step.open({
      databaseUrl: server.url,
      namespace: `t06_restart_${randomBytes(3).toString("hex")}`,
    });
    onTestFinished(() => instance.close());
    const { registry } = recordingJobs();
    const worker = instance.startWorker({
      registry,
      heartbeatIntervalMs: 100,
      aliveThresholdMs: 60_000,
      pollIntervalMs: 500,
    });
    await eventually(
      async () => (await processes(instance)).length === 1,
      "the worker to register",
    );
    const [row] = await processes(instance);
    if (!row) throw new Error("unreachable");
    const failedBeat = nextEvent(
      instance.events,
      "workerError",
      (e) => e.workerId.endsWith("/heartbeat"),
      20_000,
    );
    await server.stop();
    await failedBeat; // a beat failed while the server was down…
    await server.start();
    const restartedAt = new Date();
    // …and later ones get through: the same process, alive, beating again.
    await eventually(
      async () => (await lastHeartbeat(instance, row.id).catch(() => new Date(0))) > restartedAt,
      "a heartbeat after the restart",
      20_000,
    );
    expect((await processes(instance)).map((p) => [p.id, p.alive])).toEqual([[row.id, true]]);
    const finished = nextEvent(instance.events, "finished", () => true, 20_000);
    await instance.enqueue("Record", {});
    await finished;
    await worker.stop();
    expect(await processes(instance)).toEqual([]);
  }, 120_000);
});

describe("step 06 — reset", () => {
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

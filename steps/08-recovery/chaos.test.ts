/**
 * Step 08 under fire, with real processes: workers SIGKILLed at random
 * under load, and SIGTERM while jobs run. Each test ends by accounting for
 * every job. (The database going away under load: database-outage.test.ts.)
 */
import { describe, expect, it } from "vitest";
import type { StepInstance } from "../../lib/step.ts";
import type { WorkerProcess } from "../../lib/worker-process.ts";
import { openForTest } from "../../test/support/open.ts";
import { recordingJobs } from "../../test/support/recording-jobs.ts";
import { eventually, eventuallyWhileProgressing, within } from "../../test/support/waiting.ts";
import { spawnWorker } from "../../test/support/worker-process.ts";
import { step } from "./index.ts";

/** Short heartbeats, a short retry backoff: recovery in milliseconds, so the test takes seconds. */
const QUICK = [
  "--heartbeat-interval",
  "200",
  "--alive-threshold",
  "2000",
  "--retry-backoff",
  "20,200,0",
];

/**
 * What a supervisor's output says about its workers: which pids it started,
 * and every job start and finish by worker pid (the CLI prints `▶ job ID`
 * just before a job runs and `✓ job ID` once its finish has committed; the
 * supervisor prefixes each line with `[worker PID]`).
 */
class WorkerLog {
  readonly started = new Set<number>();
  readonly runs = new Map<string, number[]>();
  readonly finishes = new Map<string, number[]>();

  constructor(supervisor: WorkerProcess) {
    supervisor.onLine((line) => {
      const spawned = /supervisor: started worker process (\d+)/.exec(line);
      if (spawned) this.started.add(Number(spawned[1]));
      const job = /^\[worker (\d+)\] .* ([▶✓]) job (\d+) /.exec(line);
      if (!job) return;
      const [, pid, mark, jobId] = job;
      const byJob = mark === "▶" ? this.runs : this.finishes;
      byJob.set(jobId ?? "", [...(byJob.get(jobId ?? "") ?? []), Number(pid)]);
    });
  }
}

describe("step 08 — chaos", () => {
  it("SIGKILLs random worker processes under load: no job lost, and only jobs whose worker was killed mid-run ran twice", async () => {
    // Sized by what the test is for: kills. Between kills, workers spend
    // most of their time starting again, so few jobs end during the six
    // kills (measured on 2 cores, quiet: 158 in 6.4 s); the rest run after
    // the last kill, which only adds seconds.
    const JOBS = 1_000;
    const KILLS = 6;
    const instance = await openForTest(step, "chaos");
    const begun = Date.now();
    await instance.enqueueMany(
      Array.from({ length: JOBS }, (_, i) => ({ name: "Sleep", args: { ms: 5 + (i % 20) } })),
    );
    const supervisor = spawnWorker(instance, ["--processes", "3", "--concurrency", "4", ...QUICK]);
    const log = new WorkerLog(supervisor);
    const killed = new Map<number, number>(); // pid → when it was killed
    try {
      // A killed worker's row goes, and its claims with it, as soon as its
      // supervisor sees it exit — or, failing that, at recovery's first look
      // after its alive threshold (2 s); 6 s allows for a loaded machine.
      // Checked with every count below, so a step that never takes a dead
      // worker's jobs back fails 6 s after its first kill — not once every
      // other job has run and the count has then stood still for 6 s.
      const expectKilledReleased = async () => {
        const asked = Date.now();
        for (const row of (await instance.processes?.()) ?? []) {
          const at = killed.get(row.pid);
          // A row registered after the kill is a new process that got the pid again.
          if (at === undefined || row.ageMs < asked - at) continue;
          if (asked - at > 6_000) {
            throw new Error(
              `worker ${row.pid} was SIGKILLed ${asked - at} ms ago and its row (with any claims) is still there`,
            );
          }
        }
      };
      // The killer: every 300–700 ms, a random worker that has run jobs,
      // until it has killed six or the work is done.
      const ended = async () => {
        await expectKilledReleased();
        const counts = await instance.counts();
        return (counts.finished ?? 0) + (counts.failed ?? 0);
      };
      const allDone = async () => (await ended()) === JOBS;
      while (killed.size < KILLS && !(await allDone())) {
        await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 400));
        const busy = [...log.started].filter(
          (pid) => !killed.has(pid) && [...log.runs.values()].some((pids) => pids.includes(pid)),
        );
        const victim = busy[Math.floor(Math.random() * busy.length)];
        if (victim === undefined) continue;
        process.kill(victim, "SIGKILL");
        killed.set(victim, Date.now());
      }
      // However loaded the machine, jobs keep ending: a killed worker's jobs
      // go back as soon as its supervisor sees it exit (or, failing that,
      // within its alive threshold, 2 s), and workers start again in 1–3 s
      // on a quiet machine. Loaded, it takes longer: the practice check runs
      // two test files at once, and in one CI rehearsal no job ended for 6 s
      // — most likely workers starting again: the supervisor's pause after a
      // quick death (1 s), then Node loading the step. So it takes 15 s of
      // standing still to fail. A step that never gives a dead worker's jobs
      // back fails sooner, 6 s after its first kill (expectKilledReleased).
      await eventuallyWhileProgressing(
        ended,
        (count) => count === JOBS,
        "every job to be finished or in the dead queue",
        15_000,
      );
    } finally {
      supervisor.child.kill("SIGTERM");
    }
    expect(await supervisor.exited).toEqual({ code: 0, signal: null });

    // Nothing lost: every job ended, nothing waits, nothing is held.
    const counts = await instance.counts();
    expect(counts).toMatchObject({ ready: 0, scheduled: 0, claimed: 0 });
    // Any job in the dead queue is there because its workers kept dying.
    for (const failed of (await instance.failedJobs?.()) ?? []) {
      expect(failed.error).toMatch(/^ProcessDiedError: /);
    }
    // Every job that ran more than once ran first on workers that were
    // killed, without finishing there: the one way step 08 runs a job twice.
    let ranTwice = 0;
    for (const [jobId, pids] of log.runs) {
      if (pids.length === 1) continue;
      ranTwice++;
      for (const pid of pids.slice(0, -1)) {
        expect([...killed.keys()], `job ${jobId} ran again after running on ${pid}`).toContain(pid);
        expect(log.finishes.get(jobId) ?? [], `job ${jobId} finished on ${pid}`).not.toContain(pid);
      }
    }
    // Each killed worker was running at most its 4 slots' jobs. And the
    // chaos did happen: 1,000 jobs take several seconds, kills come twice a second.
    expect(ranTwice).toBeLessThanOrEqual(killed.size * 4);
    expect(killed.size).toBeGreaterThanOrEqual(KILLS / 2);
    expect(await instance.processes?.()).toEqual([]);
    console.log(
      `chaos: ${JOBS} jobs, ${killed.size} workers SIGKILLed, ${counts.finished} finished, ${counts.failed} dead, ${ranTwice} ran twice, ${((Date.now() - begun) / 1000).toFixed(1)} s`,
    );
  }, 60_000);

  it("on SIGTERM, finishes the jobs that end within the shutdown timeout and releases the rest to ready", async () => {
    const instance = await openForTest(step, "sigterm");
    // Two jobs that will not end in time first (oldest is claimed first), then short ones.
    const long = await instance.enqueueMany([
      { name: "Sleep", args: { ms: 600_000 } },
      { name: "Sleep", args: { ms: 600_000 } },
    ]);
    await instance.enqueueMany(
      Array.from({ length: 40 }, () => ({ name: "Sleep", args: { ms: 50 } })),
    );
    const worker = spawnWorker(instance, ["--concurrency", "4", "--shutdown-timeout", "500"]);
    for (const id of long) await worker.waitForLine(new RegExp(`▶ job ${id} Sleep`));
    await worker.waitForLine(/✓ job \d+ Sleep/); // short jobs are running too
    worker.child.kill("SIGTERM");
    // It waits for the short jobs, not for the long ones: it is gone well
    // within 3 s (six times its shutdown timeout; it takes a few tenths).
    // One that waits for the long ones fails here, at 3 s.
    expect(await within(worker.exited, 3_000, "the worker to exit after SIGTERM")).toEqual({
      code: 0,
      signal: null,
    });
    for (const id of long) {
      expect(worker.output()).toMatch(new RegExp(`↩ job ${id} Sleep: .*released back to ready`));
    }
    const counts = await instance.counts();
    expect(counts).toMatchObject({ claimed: 0, failed: 0 });
    expect((counts.ready ?? 0) + (counts.finished ?? 0)).toBe(42);
    expect(await attemptsOf(instance, long)).toEqual([0, 0]); // a release is not a failure
    expect(await instance.processes?.()).toEqual([]);

    // Nothing was lost: another worker runs everything that is left.
    const { registry } = recordingJobs(); // its Sleep returns at once
    const next = instance.startWorker({ registry, concurrency: 4, pollIntervalMs: 20 });
    await eventually(
      async () => (await instance.counts()).finished === 42,
      "the released and remaining jobs to finish",
      20_000,
    );
    await next.stop();
  }, 60_000);
});

async function attemptsOf(instance: StepInstance, ids: readonly string[]): Promise<number[]> {
  const rows = await instance.database?.query<{ attempts: number }>(
    "SELECT attempts FROM jobs WHERE id = ANY($1::bigint[]) ORDER BY id",
    [ids],
  );
  return (rows ?? []).map((row) => row.attempts);
}

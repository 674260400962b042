/**
 * `npm run step 06`: a supervisor with three worker processes; one is killed
 * with `kill -9`; the supervisor starts another; the dead process's row goes
 * stale and is reported dead — and its claimed jobs are still stuck.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Database } from "../../../lib/postgres/database.ts";
import type { Output, ProcessReport, StepInstance } from "../../../lib/step.ts";
import { spawnWorkerProcess } from "../../../lib/worker-process.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

/** A breath between scenes, so the reader can follow. */
const PAUSE_MS = 1_500;
/** Short, so the story shows a death being noticed in seconds (the defaults are 10 s / 60 s). */
const HEARTBEAT_INTERVAL_MS = 500;
const ALIVE_THRESHOLD_MS = 3_000;
const JOB_MS = 8_000;

export async function runStory({ open, out }: RunContext): Promise<void> {
  const instance = await open({ namespace: "story_06" });
  await instance.reset();
  const supervisor = spawnWorkerProcess({
    stepId: "06",
    namespace: instance.namespace,
    args: [
      "--processes",
      "3",
      "--concurrency",
      "2",
      "--heartbeat-interval",
      String(HEARTBEAT_INTERVAL_MS),
      "--alive-threshold",
      String(ALIVE_THRESHOLD_MS),
    ],
  });
  try {
    const database = instance.database;
    if (!database) throw new Error("Step 06 is a Postgres step but opened without a database.");
    const report = () => processesOf(instance);

    heading(out, "Step 06 — heartbeats");
    say(
      out,
      "Every worker now registers a row in a processes table when it starts, updates its " +
        "last_heartbeat_at every interval, and deletes its row when it stops cleanly. A process whose " +
        "heartbeat is older than its alive threshold is considered dead. Claims point at process rows. " +
        "And a supervisor starts the worker processes and starts a new one when one exits.",
    );
    out.line("");
    say(
      out,
      `npm run step 06 -- worker --processes 3 --concurrency 2 --heartbeat-interval ${HEARTBEAT_INTERVAL_MS} ` +
        `--alive-threshold ${ALIVE_THRESHOLD_MS} (short, for the story: the defaults are 10 s and 60 s):`,
    );
    await waitFor(
      async () => (await report()).filter((p) => p.kind === "Worker").length === 3,
      20_000,
      () => `the supervisor did not start three workers:\n${supervisor.output()}`,
    );
    out.line("");
    printProcesses(out, await report());
    await sleep(PAUSE_MS);

    heading(out, "A worker is killed with kill -9 in the middle of its jobs");
    const ids = await instance.enqueueMany(
      Array.from({ length: 6 }, () => ({ name: "Sleep", args: { ms: JOB_MS } })),
    );
    for (const id of ids) await supervisor.waitForLine(new RegExp(`▶ job ${id} Sleep`), 20_000);
    const victim = await busiestWorker(database);
    say(
      out,
      `Six ${JOB_MS / 1000}-second jobs, two per worker. Worker ${victim.pid} holds jobs ` +
        `${victim.jobs.join(" and ")}. kill -9 ${victim.pid}.`,
    );
    process.kill(victim.pid, "SIGKILL");
    const restarted = await supervisor.waitForLine(
      new RegExp(`worker ${victim.pid} exited unexpectedly`),
      10_000,
    );
    out.line(`  ${restarted.trim()}`);
    out.line("");
    say(out, "Its row is still there; nobody deleted it. Watch its heartbeat age:");
    const killedAt = Date.now();
    for (;;) {
      await sleep(1_000);
      const processes = await report();
      const row = processes.find((p) => p.pid === victim.pid);
      const seconds = ((Date.now() - killedAt) / 1000).toFixed(0);
      out.line(
        `  ${seconds} s after the kill: last heartbeat ${((row?.heartbeatAgeMs ?? 0) / 1000).toFixed(1)} s ago → ${row?.alive ? "alive" : "DEAD"}`,
      );
      if (row && !row.alive) break;
    }
    out.line("");
    printProcesses(out, await report());
    out.line("");
    const stuck = await database.query<{ job_id: string; process: string; alive: boolean }>(
      `SELECT c.job_id, p.name || ' (pid ' || p.pid || ')' AS process,
              p.last_heartbeat_at > now() - p.alive_threshold AS alive
       FROM claimed_executions c JOIN processes p ON p.id = c.process_id
       ORDER BY c.job_id`,
    );
    out.line("  SELECT job_id, process, alive FROM claimed_executions JOIN processes …");
    out.line("");
    for (const line of renderTable(
      ["job_id", "claimed by", "claimer alive?"],
      stuck.map((row) => [row.job_id, row.process, row.alive ? "yes" : "NO"]),
    ))
      out.line(`    ${line}`);
    out.line("");
    say(
      out,
      "The supervisor replaced the dead worker within a second, and the heartbeat told everyone it " +
        `was dead ${ALIVE_THRESHOLD_MS / 1000} s after its last beat. Its two jobs, though, are still ` +
        "claimed by it: noticing is not recovering. Now the claim says who holds it, and the processes " +
        "table says that holder is dead — everything step 08 needs to put those jobs back.",
    );
    await sleep(PAUSE_MS);

    heading(out, "Ctrl-C: the supervisor passes the signal on");
    say(
      out,
      "SIGTERM to the supervisor: it sends SIGTERM to each worker, each finishes the jobs it runs, " +
        "deregisters and exits, and then the supervisor deregisters and exits.",
    );
    supervisor.child.kill("SIGTERM");
    const exit = await supervisor.exited;
    out.line(`  supervisor exited with ${exit.signal ?? `code ${exit.code}`}.`);
    out.line("");
    printProcesses(out, await report());
    out.line("");
    for (const line of renderTable(["state", "jobs"], Object.entries(await instance.counts())))
      out.line(`    ${line}`);
    out.line("");
    say(
      out,
      "Only the dead worker's row is left, and its two claimed jobs with it. Nothing in this step " +
        "will ever remove either.",
    );

    heading(out, "Still wrong, and where it gets fixed");
    say(
      out,
      "• a dead worker is noticed, but its claimed jobs stay claimed for ever → step 08 (recovery) " +
        "prunes dead processes and puts their jobs back",
    );
    say(
      out,
      "• a failing job is recorded as failed, once, and never tried again → step 07 (retries)",
    );
    out.line("");
    say(out, "Read steps/06-heartbeats/README.md, then: npm run step 06 -- bench");
  } finally {
    if (supervisor.child.exitCode === null && supervisor.child.signalCode === null) {
      supervisor.child.kill("SIGKILL");
    }
    await instance.close();
  }
}

async function processesOf(instance: StepInstance): Promise<readonly ProcessReport[]> {
  if (!instance.processes) throw new Error("Step 06 opened without processes().");
  return instance.processes();
}

function printProcesses(out: Output, processes: readonly ProcessReport[]): void {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  out.line("  npm run step 06 -- stats (its processes part):");
  out.line("");
  for (const line of renderTable(
    ["id", "kind", "pid", "supervisor", "age", "last heartbeat", "status"],
    processes.map((p) => [
      p.id,
      p.kind,
      String(p.pid),
      p.supervisorId ?? "",
      seconds(p.ageMs),
      `${seconds(p.heartbeatAgeMs)} ago`,
      p.alive ? "alive" : "DEAD",
    ]),
  ))
    out.line(`    ${line}`);
}

/** The worker process holding the most claims (two, in the story), and its jobs. */
async function busiestWorker(database: Database): Promise<{ pid: number; jobs: string[] }> {
  const [row] = await database.query<{ pid: number; jobs: string[] }>(
    `SELECT p.pid, array_agg(c.job_id::text ORDER BY c.job_id) AS jobs
     FROM claimed_executions c JOIN processes p ON p.id = c.process_id
     GROUP BY p.pid ORDER BY count(*) DESC, p.pid LIMIT 1`,
  );
  if (!row) throw new Error("No worker holds a claim.");
  return row;
}

async function waitFor(
  condition: () => Promise<boolean>,
  timeoutMs: number,
  failure: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(failure());
    await sleep(50);
  }
}

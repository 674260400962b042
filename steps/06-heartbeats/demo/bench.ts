/**
 * `npm run step 06 -- bench`: how long after a `kill -9` a worker is reported
 * dead, for two heartbeat settings.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { StepInstance } from "../../../lib/step.ts";
import { spawnWorkerProcess } from "../../../lib/worker-process.ts";
import { median } from "../../../lib/workshop/bench/statistics.ts";
import type { RunContext } from "../../../lib/workshop/demo.ts";
import { formatNumber, renderTable } from "../../../lib/workshop/format.ts";
import { heading, say } from "../../../lib/workshop/story.ts";

interface HeartbeatSetting {
  readonly intervalMs: number;
  readonly thresholdMs: number;
}

interface Settings {
  readonly heartbeats: readonly HeartbeatSetting[];
  readonly rounds: number;
  /** How often the benchmark asks who is dead: its own resolution. */
  readonly checkEveryMs: number;
}

const FULL: Settings = {
  heartbeats: [
    { intervalMs: 1_000, thresholdMs: 5_000 },
    { intervalMs: 200, thresholdMs: 1_000 },
  ],
  rounds: 5,
  checkEveryMs: 10,
};
const QUICK: Settings = {
  heartbeats: [
    { intervalMs: 500, thresholdMs: 2_000 },
    { intervalMs: 100, thresholdMs: 500 },
  ],
  rounds: 1,
  checkEveryMs: 10,
};

export async function runBenchmark({ open, out, quick, saveResults }: RunContext): Promise<void> {
  const settings = quick ? QUICK : FULL;
  heading(out, "Step 06 benchmark — time from kill -9 to reported dead");
  say(
    out,
    "A worker process with the given heartbeat interval and alive threshold registers and beats; " +
      "at a random moment between two beats it gets SIGKILL; the benchmark asks the processes table " +
      `every ${settings.checkEveryMs} ms until it reports the worker dead. Expected: between threshold − ` +
      `interval and the threshold, depending on when the last beat was. ${settings.rounds} round(s) per ` +
      "setting, interleaved; median, min and max. (Step 05 never notices: it keeps no record of its workers.)",
  );
  const instance = await open({ namespace: "bench06" });
  const results: number[][] = settings.heartbeats.map(() => []);
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, heartbeat] of settings.heartbeats.entries()) {
        out.line(
          `  round ${round + 1}: interval ${heartbeat.intervalMs} ms, threshold ${heartbeat.thresholdMs} ms…`,
        );
        await instance.reset();
        results[index]?.push(await measureTimeToDead(instance, heartbeat, settings.checkEveryMs));
      }
    }
  } finally {
    await instance.close();
  }
  out.line("");
  const seconds = (ms: number) => `${formatNumber(ms / 1000)} s`;
  for (const line of renderTable(
    ["interval / threshold", "kill → dead (median)", "min", "max", "of threshold"],
    settings.heartbeats.map((heartbeat, index) => {
      const times = results[index] ?? [];
      return [
        `${seconds(heartbeat.intervalMs)} / ${seconds(heartbeat.thresholdMs)}`,
        seconds(median(times)),
        seconds(Math.min(...times)),
        seconds(Math.max(...times)),
        `${formatNumber((median(times) / heartbeat.thresholdMs) * 100)} %`,
      ];
    }),
  ))
    out.line(`  ${line}`);
  await saveResults("step-06", settings, { timeToDeadMs: results });
}

/** Starts a worker process, kills it at a random point of its beat cycle, and times until it is reported dead. */
async function measureTimeToDead(
  instance: StepInstance,
  heartbeat: HeartbeatSetting,
  checkEveryMs: number,
): Promise<number> {
  const processes = instance.processes?.bind(instance);
  if (!processes) throw new Error("Step 06 opened without processes().");
  const worker = spawnWorkerProcess({
    stepId: instance.step.id,
    namespace: instance.namespace,
    args: [
      "--heartbeat-interval",
      String(heartbeat.intervalMs),
      "--alive-threshold",
      String(heartbeat.thresholdMs),
    ],
  });
  const pid = worker.child.pid;
  try {
    const deadline = Date.now() + 30_000;
    while (!(await processes()).some((p) => p.pid === pid && p.alive)) {
      if (Date.now() > deadline) {
        throw new Error(`The worker process did not register:\n${worker.output()}`);
      }
      await sleep(checkEveryMs);
    }
    // Past its first beat, then a random point between two beats.
    await sleep(heartbeat.intervalMs + Math.random() * heartbeat.intervalMs);
    const killedAt = performance.now();
    worker.child.kill("SIGKILL");
    await worker.exited;
    while ((await processes()).some((p) => p.pid === pid && p.alive)) {
      if (performance.now() - killedAt > heartbeat.thresholdMs * 3) {
        throw new Error(`The killed worker ${pid} was still reported alive after 3 thresholds.`);
      }
      await sleep(checkEveryMs);
    }
    return performance.now() - killedAt;
  } finally {
    if (worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill("SIGKILL");
    }
  }
}

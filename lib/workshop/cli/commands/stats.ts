/**
 * `npm run step NN -- stats [--json]`.
 *
 * @module
 */

import type { StepInstance } from "../../../step.ts";
import { renderTable } from "../../format.ts";

export async function runStatsCommand(instance: StepInstance, json: boolean): Promise<void> {
  const counts = await instance.counts();
  // Steps with heartbeats (06 on) also know their processes.
  const processes = instance.processes ? await instance.processes() : undefined;
  if (json) {
    console.log(
      JSON.stringify({ step: instance.step.id, namespace: instance.namespace, counts, processes }),
    );
    return;
  }
  console.log(`Step ${instance.step.id} (${instance.namespace})`);
  for (const line of renderTable(["state", "jobs"], Object.entries(counts))) console.log(line);
  if (processes === undefined) return;
  console.log("");
  if (processes.length === 0) {
    console.log("No processes registered.");
    return;
  }
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  for (const line of renderTable(
    ["process", "kind", "name", "pid", "supervisor", "age", "last heartbeat", "status"],
    processes.map((p) => [
      p.id,
      p.kind,
      p.name,
      String(p.pid),
      p.supervisorId ?? "",
      seconds(p.ageMs),
      `${seconds(p.heartbeatAgeMs)} ago`,
      p.alive ? "alive" : `DEAD (silent > ${seconds(p.aliveThresholdMs)})`,
    ]),
  ))
    console.log(line);
}

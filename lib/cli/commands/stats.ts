/**
 * `npm run step NN -- stats [--json]`.
 *
 * @module
 */
import { renderTable } from "../../format.ts";
import type { StepInstance } from "../../step.ts";

export async function runStatsCommand(instance: StepInstance, json: boolean): Promise<void> {
  const counts = await instance.counts();
  if (json) {
    console.log(JSON.stringify({ step: instance.step.id, namespace: instance.namespace, counts }));
    return;
  }
  console.log(`Step ${instance.step.id} (${instance.namespace})`);
  for (const line of renderTable(["state", "jobs"], Object.entries(counts))) console.log(line);
}

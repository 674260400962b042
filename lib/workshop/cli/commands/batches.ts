/**
 * `npm run step NN -- batches [create | seal <id>]`, and `enqueue --batch ID`:
 * groups of jobs with a callback when they are done, for steps that have
 * them (`batches`, step 14).
 *
 * @module
 */

import { InputError } from "../../../input-error.ts";
import type { Batches, BatchReport, NewBatch, Step, StepInstance } from "../../../step.ts";
import { renderTable } from "../../format.ts";

/** A step without batches: say so, and where they are. */
export class NoBatchesError extends InputError {
  override name = "NoBatchesError";
  constructor(stepId: string) {
    super(
      `Step ${stepId} has no batches: its jobs are not grouped, and nothing calls back when a group is done (step 14 adds batches). Nothing was changed.`,
    );
  }
}

/**
 * Refuses the batch commands on a step without batches, before the step is
 * opened (opening creates its schema: a refused command must change
 * nothing). Read from the guarantees, as `requireDeadQueue` reads `retries`.
 */
export function requireBatches(step: Step): void {
  if (!step.guarantees.includes("batches")) throw new NoBatchesError(step.id);
}

/** The instance's batches, or the error that says the step has none. */
export function batchesOf(instance: StepInstance): Batches {
  if (!instance.batches) throw new NoBatchesError(instance.step.id);
  return instance.batches;
}

/** Lists every batch, oldest first: its counts, and the callbacks it has fired. */
export async function runBatchesCommand(instance: StepInstance, json: boolean): Promise<void> {
  const batches = await batchesOf(instance).list();
  if (json) {
    console.log(JSON.stringify(batches));
    return;
  }
  if (batches.length === 0) {
    console.log(
      `Step ${instance.step.id} has no batches yet (${instance.namespace}). Create one with: npm run step ${instance.step.id} -- batches create --on-finish Noop`,
    );
    return;
  }
  const rows = batches.map((batch) => [
    batch.id,
    String(batch.total),
    String(batch.pending),
    String(batch.succeeded),
    String(batch.dead),
    stateOf(batch),
    batch.callbacksFired.join(", ") || "none",
  ]);
  for (const line of renderTable(
    ["batch", "total", "pending", "succeeded", "dead", "state", "callbacks fired"],
    rows,
  )) {
    console.log(line);
  }
}

function stateOf(batch: BatchReport): string {
  if (batch.completedAt !== null) return `completed ${batch.completedAt.toISOString()}`;
  return batch.sealed ? "sealed" : "open";
}

/** Creates an open batch with the callbacks given, and says how to fill and seal it. */
export async function runCreateBatchCommand(
  instance: StepInstance,
  callbacks: Pick<NewBatch, "onFinish" | "onSuccess" | "onDead">,
): Promise<void> {
  const id = await batchesOf(instance).create(callbacks);
  const n = instance.step.id;
  console.log(
    `Created batch ${id}, open. Add jobs with: npm run step ${n} -- enqueue Noop --batch ${id}\nthen seal it with: npm run step ${n} -- batches seal ${id}`,
  );
}

/** Seals a batch; one with nothing pending completes at once. */
export async function runSealBatchCommand(instance: StepInstance, id: string): Promise<void> {
  const batches = batchesOf(instance);
  await batches.seal(id);
  const sealed = (await batches.list()).find((batch) => batch.id === id);
  console.log(
    sealed?.completedAt
      ? `Sealed batch ${id}: nothing was pending, so it completed at once (callbacks fired: ${sealed.callbacksFired.join(", ") || "none"}).`
      : `Sealed batch ${id}: no job can be added now; it completes when its ${sealed?.pending ?? "?"} pending job(s) are done.`,
  );
}

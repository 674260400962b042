/**
 * Step 14: a job of a batch put back from the dead queue by a person
 * (`retry`) is pending in its batch again while the batch has not
 * completed; once the batch has completed and called back, the job is taken
 * out of it, and its new outcome changes nothing there.
 */
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../lib/jobs/arguments.ts";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import type { Batches, StepInstance } from "../../lib/step.ts";
import { openForTest } from "../../test/support/open.ts";
import { eventually, gate } from "../../test/support/waiting.ts";
import { step } from "./index.ts";

/** `Fragile` fails (for good: one attempt) until `fixed`; `Waits` waits for `release`; `Done` records its calls. */
function jobs() {
  const state = { fixed: false };
  const release = gate();
  const calls: JsonValue[] = [];
  const registry = new JobRegistry([
    defineJob({
      name: "Fragile",
      description: "fails until fixed",
      exampleArguments: {},
      maxAttempts: 1,
      perform() {
        if (!state.fixed) throw new Error("not fixed yet");
      },
    }),
    defineJob({
      name: "Waits",
      description: "waits for the test",
      exampleArguments: {},
      perform: () => release.opened,
    }),
    defineJob<JsonValue>({
      name: "Done",
      description: "records its call",
      exampleArguments: {},
      perform(args) {
        calls.push(args);
      },
    }),
  ]);
  return { registry, state, release, calls };
}

function batchesOf(instance: StepInstance): Batches {
  if (!instance.batches) throw new Error("Step 14 has batches.");
  return instance.batches;
}

async function retry(instance: StepInstance, id: string): Promise<string[]> {
  if (!instance.retryFailedJobs) throw new Error("Step 14 has a dead queue.");
  return instance.retryFailedJobs([id]);
}

describe("step 14 — retrying a dead job of a batch", () => {
  it("before the batch completes: the job is pending again, and its new outcome is the one that counts", async () => {
    const instance = await openForTest(step, "retry_open");
    const batches = batchesOf(instance);
    const { registry, state, release, calls } = jobs();
    const batch = await batches.create({ onFinish: "Done", onSuccess: "Done", registry });
    const [fragile] = await batches.add(batch, [{ name: "Fragile" }, { name: "Waits" }]);
    await batches.seal(batch);
    const worker = instance.startWorker({ registry, concurrency: 2, pollIntervalMs: 20 });
    try {
      await eventually(
        async () => (await batches.list())[0]?.dead === 1,
        "Fragile to reach the dead queue",
      );
      state.fixed = true;
      expect(await retry(instance, fragile ?? "")).toEqual([fragile]);
      expect(await batches.list()).toMatchObject([{ pending: 2, succeeded: 0, dead: 0 }]);
      release.open();
      await eventually(() => calls.length === 2, "onFinish and onSuccess to run");
    } finally {
      await worker.stop();
    }
    expect(await batches.list()).toMatchObject([
      { total: 2, pending: 0, succeeded: 2, dead: 0, callbacksFired: ["onFinish", "onSuccess"] },
    ]);
  }, 30_000);

  it("after the batch completed: the job is taken out of it, and the batch's counts and callbacks stay as they were", async () => {
    const instance = await openForTest(step, "retry_done");
    const batches = batchesOf(instance);
    const { registry, state, calls } = jobs();
    const batch = await batches.create({ onFinish: "Done", onSuccess: "Done", registry });
    const [fragile] = await batches.add(batch, [{ name: "Fragile" }]);
    await batches.seal(batch);
    const worker = instance.startWorker({ registry, pollIntervalMs: 20 });
    try {
      await eventually(() => calls.length === 1, "onFinish to run");
      const [completed] = await batches.list();
      expect(completed).toMatchObject({ pending: 0, succeeded: 0, dead: 1 });
      state.fixed = true;
      const finished = (await instance.counts()).finished ?? 0;
      expect(await retry(instance, fragile ?? "")).toEqual([fragile]);
      await eventually(
        async () => (await instance.counts()).finished === finished + 1,
        "the retried job to finish",
      );
      expect(await batches.list()).toEqual([completed]);
      const [row] =
        (await instance.database?.query<{ batch_id: string | null }>(
          "SELECT batch_id FROM jobs WHERE id = $1",
          [fragile],
        )) ?? [];
      expect(row).toEqual({ batch_id: null });
      expect(calls).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  }, 30_000);
});

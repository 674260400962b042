/**
 * The contract suite: `batches` — a group of jobs gets exactly one callback
 * when its last job is done.
 *
 * Enforced where declared (through `instance.batches`): the last two jobs of
 * a batch end at the same moment and the batch calls back once, with its
 * final counts; a job retried and then successful counts once, as
 * succeeded; the first job to go dead calls `onDead` once; jobs added from
 * inside a job of the batch count in; a batch sealed empty completes at
 * once; adding after the seal, to an unknown batch, or a callback no worker
 * knows, is refused and stores nothing.
 *
 * Demonstrated where not, for the queues that run two jobs at once without
 * running one twice: without batches, a job can only ask the queue "am I
 * the last of my group?" — and the last two, ending at the same moment,
 * both hear "no". The group's end passes unnoticed; all that is left is to
 * poll every job. (Asked after each job's finish instead, both can hear
 * "yes", and the callback runs twice: GoodJob's #832.)
 */
import { expect, it } from "vitest";
import { InputError } from "../../lib/input-error.ts";
import type { JsonValue } from "../../lib/jobs/arguments.ts";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import type { Batches, StepInstance } from "../../lib/step.ts";
import { contractFor } from "../support/contract.ts";
import { openForTest } from "../support/open.ts";
import { barrier, eventually } from "../support/waiting.ts";

/** Retries within milliseconds, and a dispatcher that looks often, for the steps that have them. */
const QUICK = {
  pollIntervalMs: 20,
  dispatchIntervalMs: 20,
  retryBackoff: { baseMs: 20, maxMs: 50, jitter: 0 },
};

/** Callback jobs that record what they were called with, by event. */
function callbackJobs() {
  const calls: { name: string; args: JsonValue }[] = [];
  const registry = new JobRegistry(
    ["BatchFinished", "BatchSucceeded", "BatchDead"].map((name) =>
      defineJob<JsonValue>({
        name,
        description: "records its call",
        exampleArguments: {},
        perform(args) {
          calls.push({ name, args });
        },
      }),
    ),
  );
  const callbacks = {
    onFinish: "BatchFinished",
    onSuccess: "BatchSucceeded",
    onDead: "BatchDead",
    registry,
  };
  return { registry, callbacks, calls };
}

function batchesOf(instance: StepInstance): Batches {
  if (!instance.batches) {
    throw new Error(`Step ${instance.step.id} declares batches but has no instance.batches.`);
  }
  return instance.batches;
}

/** Every job has run: none ready, waiting for a retry, or running. */
async function nothingLeft(instance: StepInstance): Promise<boolean> {
  const counts = await instance.counts();
  return (counts.ready ?? 0) + (counts.scheduled ?? 0) + (counts.claimed ?? 0) === 0;
}

contractFor(
  "batches",
  (step, declared) => {
    if (declared) {
      it("the last two jobs of a batch end at the same moment: one onFinish and one onSuccess, with the final counts", async () => {
        const instance = await openForTest(step, "batch_last");
        const batches = batchesOf(instance);
        const { registry, callbacks, calls } = callbackJobs();
        const together = barrier(2);
        registry.register(
          defineJob({
            name: "Member",
            description: "waits for the other member, then returns",
            exampleArguments: {},
            perform: () => together.arrive(),
          }),
        );
        const batch = await batches.create(callbacks);
        await batches.add(batch, [{ name: "Member" }, { name: "Member" }]);
        await batches.seal(batch);
        const worker = instance.startWorker({ registry, concurrency: 2, ...QUICK });
        await eventually(
          async () => calls.length >= 2 && (await nothingLeft(instance)),
          "the batch's callbacks to run",
        );
        await worker.stop();
        const counts = { batchId: batch, total: 2, succeeded: 2, dead: 0 };
        expect(calls).toEqual(
          expect.arrayContaining([
            { name: "BatchFinished", args: { ...counts, event: "finish" } },
            { name: "BatchSucceeded", args: { ...counts, event: "success" } },
          ]),
        );
        expect(calls).toHaveLength(2);
        expect(await batches.list()).toMatchObject([
          { id: batch, total: 2, pending: 0, succeeded: 2, dead: 0, sealed: true },
        ]);
        expect((await instance.counts()).finished).toBe(4); // two members, two callbacks
      }, 30_000);

      it("a job retried and then successful counts once; the first job to go dead calls onDead, once; onFinish without onSuccess", async () => {
        const instance = await openForTest(step, "batch_retry");
        const batches = batchesOf(instance);
        const { registry, callbacks, calls } = callbackJobs();
        registry.register(
          defineJob({
            name: "FailsOnce",
            description: "throws on its first attempt",
            exampleArguments: {},
            maxAttempts: 3,
            perform(_, { attempt }) {
              if (attempt === 1) throw new Error("first attempt");
            },
          }),
        );
        registry.register(
          defineJob({
            name: "Doomed",
            description: "always throws",
            exampleArguments: {},
            maxAttempts: 2,
            perform() {
              throw new Error("never");
            },
          }),
        );
        const batch = await batches.create(callbacks);
        await batches.add(batch, [{ name: "FailsOnce" }, { name: "Doomed" }, { name: "Doomed" }]);
        await batches.seal(batch);
        const worker = instance.startWorker({ registry, concurrency: 3, ...QUICK });
        await eventually(
          async () =>
            calls.some((call) => call.name === "BatchFinished") && (await nothingLeft(instance)),
          "the batch to finish and its callbacks to run",
          20_000,
        );
        await worker.stop();
        expect(calls.map((call) => call.name).sort()).toEqual(["BatchDead", "BatchFinished"]);
        expect(calls.find((call) => call.name === "BatchDead")?.args).toMatchObject({
          batchId: batch,
          event: "dead",
          total: 3,
          dead: 1,
        });
        expect(calls.find((call) => call.name === "BatchFinished")?.args).toEqual({
          batchId: batch,
          event: "finish",
          total: 3,
          succeeded: 1,
          dead: 2,
        });
        expect(await batches.list()).toMatchObject([
          { total: 3, pending: 0, succeeded: 1, dead: 2, callbacksFired: ["onDead", "onFinish"] },
        ]);
      }, 30_000);

      it("jobs added from inside a job of the batch, before the seal, count in", async () => {
        const instance = await openForTest(step, "batch_inside");
        const batches = batchesOf(instance);
        const { registry, callbacks, calls } = callbackJobs();
        let parentDone = false;
        registry.register(
          defineJob<{ batchId: string }>({
            name: "Parent",
            description: "adds two children to its own batch",
            exampleArguments: { batchId: "1" },
            async perform({ batchId }) {
              await batches.add(batchId, [{ name: "Child" }, { name: "Child" }]);
              parentDone = true;
            },
          }),
        );
        registry.register(
          defineJob({ name: "Child", description: "", exampleArguments: {}, perform() {} }),
        );
        const batch = await batches.create(callbacks);
        await batches.add(batch, [{ name: "Parent", args: { batchId: batch } }]);
        const worker = instance.startWorker({ registry, concurrency: 2, ...QUICK });
        await eventually(() => parentDone, "the parent to add its children");
        await batches.seal(batch);
        await eventually(
          async () => calls.length >= 2 && (await nothingLeft(instance)),
          "the batch's callbacks to run",
        );
        await worker.stop();
        expect(calls).toHaveLength(2);
        expect(calls[0]?.args).toMatchObject({ total: 3, succeeded: 3, dead: 0 });
      }, 30_000);

      it("a batch sealed with no jobs completes at once; a job added after the seal is refused, and nothing is stored", async () => {
        const instance = await openForTest(step, "batch_seal");
        const batches = batchesOf(instance);
        const { callbacks } = callbackJobs();
        const batch = await batches.create(callbacks);
        await batches.seal(batch);
        const [sealed] = await batches.list();
        expect(sealed).toMatchObject({ total: 0, pending: 0, sealed: true });
        expect(sealed?.completedAt).toBeInstanceOf(Date);
        expect(sealed?.callbacksFired).toEqual(["onFinish", "onSuccess"]);
        // The callbacks were enqueued with the seal, before any worker ran.
        expect(await instance.counts()).toMatchObject({ ready: 2 });
        await expect(batches.add(batch, [{ name: "Noop" }])).rejects.toThrow(
          /sealed.*Nothing was stored/,
        );
        await expect(batches.add(batch, [{ name: "Noop" }])).rejects.toBeInstanceOf(InputError);
        await expect(batches.seal(batch)).rejects.toBeInstanceOf(InputError);
        expect(await instance.counts()).toMatchObject({ ready: 2 });
        expect(await batches.list()).toEqual([sealed]);
      }, 30_000);

      it("refuses an unknown batch, a callback no worker knows, and arguments a job does not take: a clear error, nothing stored", async () => {
        const instance = await openForTest(step, "batch_input");
        const batches = batchesOf(instance);
        const open = await batches.create();
        for (const id of ["999999", "not-a-batch", "1; DROP TABLE jobs"]) {
          await expect(batches.add(id, [{ name: "Noop" }])).rejects.toThrow(/no batch/);
          await expect(batches.seal(id)).rejects.toBeInstanceOf(InputError);
        }
        await expect(batches.create({ onFinish: "NoSuchJob" })).rejects.toThrow(
          /not a registered job.*No batch was created/,
        );
        // Sleep takes { ms }, not a callback's arguments.
        await expect(batches.create({ onSuccess: "Sleep" })).rejects.toBeInstanceOf(InputError);
        await expect(
          batches.add(open, [{ name: "Noop" }, { name: "Sleep", args: { ms: "soon" } }]),
        ).rejects.toBeInstanceOf(InputError);
        expect(await batches.list()).toMatchObject([{ id: open, total: 0, pending: 0 }]);
        expect(await instance.counts()).toMatchObject({ ready: 0 });
      }, 30_000);
    } else {
      it("demonstrates: the last two jobs of a group end at the same moment, each asks whether the others are done, and nobody notices the group is done", async () => {
        const instance = await openForTest(step, "batch_none");
        expect(instance.batches).toBeUndefined();
        // The two ask at the same moment: both have started, and neither
        // returns before both have asked.
        const started = barrier(2);
        const asked = barrier(2);
        const heard: boolean[] = [];
        const registry = new JobRegistry([
          defineJob({
            name: "Member",
            description: "asks, as it ends, whether it is the last of its group",
            exampleArguments: {},
            async perform() {
              await started.arrive();
              // Of the two jobs (the whole queue), is the other one finished?
              heard.push((await instance.counts()).finished === 1);
              await asked.arrive();
            },
          }),
        ]);
        const worker = instance.startWorker({ registry, concurrency: 2, ...QUICK });
        await instance.enqueueMany([{ name: "Member" }, { name: "Member" }]);
        await eventually(
          async () => (await instance.counts()).finished === 2,
          "both jobs to finish",
        );
        await worker.stop();
        // Both finished; each heard "not the last": no callback would run.
        expect(heard).toEqual([false, false]);
      }, 30_000);
    }
  },
  // The queues that run two jobs at once without running one twice.
  (step) => step.guarantees.includes("noDuplicatesWithHealthyWorkers"),
);

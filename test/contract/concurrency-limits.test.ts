/**
 * The contract suite: `concurrencyLimits` — at most N jobs of one key run at
 * once, and with a limit of 1 they run one at a time, in enqueue order.
 *
 * The jobs wait for each other or for the test, so the moments that count
 * are reached deterministically, never by luck of timing: `Overlap` counts
 * the jobs of its key running in this process and waits until `together` of
 * them run at once (or every job of the key has started); `Turn` runs until
 * the test lets it go.
 *
 * Enforced where declared: 20 jobs of one key with limit 2, on three workers
 * with 8 slots between them, run exactly 2 at once (not 1, not 3) while a
 * second key's jobs run beside them; with limit 1 they run one at a time in
 * enqueue order; a bad limit or key is refused and nothing is stored.
 *
 * Demonstrated where not declared: the step refuses a concurrency limit
 * (rather than store a job whose limit it would ignore), and without one it
 * runs three jobs of one account at once, where a limit of 2 would forbid
 * it (steps that run a job once per pick, 02 on: step 01's workers can all
 * pick the same job, which duplicates.test.ts shows).
 */
import { expect, it } from "vitest";
import { EnqueueOptionError } from "../../lib/enqueue-options.ts";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import type { EnqueueOptions, NewJob, StepInstance, Worker } from "../../lib/step.ts";
import { contractFor } from "../support/contract.ts";
import { openForTest } from "../support/open.ts";
import { eventually, gate, nthEvent } from "../support/waiting.ts";

type OverlapArgs = {
  readonly key: string;
  /** How many of its key to wait for, running at once, before it returns. */
  readonly together: number;
  /** How many jobs its key has in all: the last ones cannot wait for company. */
  readonly total: number;
  readonly i: number;
};

/** `Overlap` jobs, and what they saw: per key, the most running at once, and the start order. */
function overlapJobs() {
  const running = new Map<string, number>();
  const started = new Map<string, number>();
  const most = new Map<string, number>();
  const order = new Map<string, number[]>();
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const wake of [...waiters]) wake();
  };
  const until = (condition: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!condition()) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  const definition = defineJob<OverlapArgs>({
    name: "Overlap",
    description: "waits until `together` jobs of its key run at once",
    exampleArguments: { key: "account:1", together: 2, total: 2, i: 0 },
    async perform({ key, together, total, i }) {
      const now = (running.get(key) ?? 0) + 1;
      running.set(key, now);
      started.set(key, (started.get(key) ?? 0) + 1);
      most.set(key, Math.max(most.get(key) ?? 0, now));
      order.set(key, [...(order.get(key) ?? []), i]);
      changed();
      await until(() => (running.get(key) ?? 0) >= together || (started.get(key) ?? 0) >= total);
      running.set(key, (running.get(key) ?? 0) - 1);
      changed();
    },
  });
  return { registry: new JobRegistry([definition]), most, order };
}

/** `total` Overlap jobs of `key`, each waiting for `together` of them. */
function jobsOf(
  key: string,
  total: number,
  together: number,
  options: EnqueueOptions = {},
): NewJob[] {
  return Array.from({ length: total }, (_, i) => ({
    name: "Overlap",
    args: { key, together, total, i },
    ...options,
  }));
}

/** Three workers, with `slots` slots each. */
function startWorkers(
  instance: StepInstance,
  registry: JobRegistry,
  slots: readonly number[],
): Worker[] {
  return slots.map((concurrency, n) =>
    instance.startWorker({ registry, concurrency, name: `w${n + 1}`, pollIntervalMs: 20 }),
  );
}

/** Resolves when `total` jobs have finished; call it before the workers start. */
function finishedJobs(instance: StepInstance, total: number): Promise<unknown> {
  return nthEvent(instance.events, "finished", () => true, total, 30_000);
}

contractFor("concurrencyLimits", (step, declared) => {
  if (declared) {
    it("runs exactly 2 jobs of a key with limit 2 at once — on 3 workers with 8 slots — and another key's beside them", async () => {
      const instance = await openForTest(step, "limit2");
      const { registry, most } = overlapJobs();
      const limited = { concurrency: { key: "account:1", limit: 2 } };
      // Each waits until 2 of its key run at once: with limit 1 they would
      // wait for ever; a third at once would show in `most`.
      await instance.enqueueMany([
        ...jobsOf("account:1", 20, 2, limited),
        ...jobsOf("account:2", 4, 4, { concurrency: { key: "account:2", limit: 4 } }),
      ]);
      expect(await instance.concurrencyKeys?.()).toMatchObject([
        { key: "account:1", limit: 2, admitted: 2, blocked: 18 },
        { key: "account:2", limit: 4, admitted: 4, blocked: 0 },
      ]);
      const allFinished = finishedJobs(instance, 24);
      const workers = startWorkers(instance, registry, [3, 3, 2]);
      await allFinished;
      await Promise.all(workers.map((worker) => worker.stop()));
      expect(most.get("account:1")).toBe(2);
      expect(most.get("account:2")).toBe(4);
      expect(await instance.concurrencyKeys?.()).toEqual([]);
    });

    it("with limit 1 runs the jobs of a key one at a time, in enqueue order, whatever their priority", async () => {
      const instance = await openForTest(step, "limit1");
      // Each job runs until the test lets it go, so the test looks at the
      // queue while each one runs: nothing else of its key may be admitted.
      const turns = Array.from({ length: 10 }, () => gate());
      const order: number[] = [];
      const registry = new JobRegistry([
        defineJob<{ i: number }>({
          name: "Turn",
          description: "runs until the test lets it go",
          exampleArguments: { i: 0 },
          async perform({ i }) {
            order.push(i);
            await turns[i]?.opened;
          },
        }),
      ]);
      // Priorities order what may run, not a key's turn: job 5 is urgent,
      // and still waits for jobs 0–4 of its key.
      await instance.enqueueMany(
        turns.map((_, i) => ({
          name: "Turn",
          args: { i },
          concurrency: { key: "account:7", limit: 1 },
          ...(i === 5 ? { priority: 0 } : {}),
        })),
      );
      const allFinished = finishedJobs(instance, 10);
      const workers = startWorkers(instance, registry, [3, 3, 2]);
      for (const [i, turn] of turns.entries()) {
        await eventually(() => order.length === i + 1, `job ${i} to start`);
        expect(await instance.concurrencyKeys?.()).toMatchObject([
          { key: "account:7", limit: 1, admitted: 1, blocked: 9 - i },
        ]);
        expect(order).toEqual([...turns.keys()].slice(0, i + 1));
        turn.open();
      }
      await allFinished;
      await Promise.all(workers.map((worker) => worker.stop()));
      expect(await instance.concurrencyKeys?.()).toEqual([]);
    });

    it("refuses a limit of 0, a negative or fractional limit, and an empty, overlong or control-character key; stores nothing", async () => {
      const instance = await openForTest(step, "badlimit");
      const bad = [
        { key: "account:1", limit: 0 },
        { key: "account:1", limit: -1 },
        { key: "account:1", limit: 1.5 },
        { key: "account:1", limit: Number.NaN },
        { key: "", limit: 1 },
        { key: "k".repeat(201), limit: 1 },
        { key: "account\n1", limit: 1 },
      ];
      for (const concurrency of bad) {
        await expect(instance.enqueue("Noop", {}, { concurrency })).rejects.toThrow(
          EnqueueOptionError,
        );
      }
      // One bad job refuses the whole batch.
      await expect(
        instance.enqueueMany([
          { name: "Noop", concurrency: { key: "account:1", limit: 1 } },
          { name: "Noop", concurrency: { key: "account:1", limit: 0 } },
        ]),
      ).rejects.toThrow(/Invalid concurrency limit 0/);
      const total = Object.values(await instance.counts()).reduce((sum, count) => sum + count, 0);
      expect(total).toBe(0);
      expect(await instance.concurrencyKeys?.()).toEqual([]);
    });
  } else {
    it("demonstrates: it refuses a concurrency limit, and runs three jobs of one account at once where a limit of 2 would forbid it", async () => {
      const instance = await openForTest(step, "nolimit");
      const limited = { concurrency: { key: "account:1", limit: 2 } };
      await expect(instance.enqueue("Overlap", {}, limited)).rejects.toThrow(EnqueueOptionError);
      await expect(instance.enqueue("Overlap", {}, limited)).rejects.toThrow(/step 11 adds them/);
      const total = Object.values(await instance.counts()).reduce((sum, count) => sum + count, 0);
      expect(total).toBe(0);
      if (!step.guarantees.includes("noDuplicatesWithHealthyWorkers")) return;

      // Without a limit, three workers run three jobs of account 1 at once:
      // each waits until three of them run together, and they all end.
      const { registry, most } = overlapJobs();
      await instance.enqueueMany(jobsOf("account:1", 3, 3));
      const allFinished = finishedJobs(instance, 3);
      const workers = startWorkers(instance, registry, [1, 1, 1]);
      await allFinished;
      await Promise.all(workers.map((worker) => worker.stop()));
      expect(most.get("account:1")).toBe(3);
    });
  }
});

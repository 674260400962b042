/**
 * The contract suite, part 1: what every queue must do whatever it promises.
 *
 * Run on every step: every job runs, arguments survive the trip, failures are
 * recorded and the worker goes on, bad input is refused before anything is
 * stored. The other files in this folder each take one guarantee and hold
 * every step to exactly what it declares: enforced where declared,
 * demonstrated to fail where not, with the interleaving chosen by a hook or a
 * signal, never left to luck.
 */
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../lib/jobs/arguments.ts";
import { ArgumentsTooLargeError, InvalidArgumentsError } from "../../lib/jobs/errors.ts";
import type { Step } from "../../lib/step.ts";
import { RunTracker } from "../../lib/workshop/bench/run-tracker.ts";
import { contractFor, steps } from "../support/contract.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";
import { nextEvent } from "../support/waiting.ts";

const SQL_METACHARACTERS = `'; DROP TABLE jobs; -- "quoted" \\ backslash $1 %s _%`;

const ROUND_TRIP_CASES: Record<string, JsonValue> = {
  unicode: { text: "Grüße, 日本語, emoji 🎉, rtl עברית, combining é" },
  nested: { a: { b: { c: [1, [2, [3, { d: null }]]] } }, empty: {}, list: [] },
  "large numbers": {
    maxSafe: Number.MAX_SAFE_INTEGER,
    minSafe: Number.MIN_SAFE_INTEGER,
    max: Number.MAX_VALUE,
    tiny: 5e-324,
    negative: -1.5e300,
  },
  "SQL metacharacters": { [SQL_METACHARACTERS]: SQL_METACHARACTERS, list: [SQL_METACHARACTERS] },
  "control characters": { nul: "a\u0000b", newline: "line\nbreak\r\n", tab: "\t" },
  "bare string": "just a string",
  "bare number": 0,
  null: null,
};

it("every step declares that every job runs (the least a queue must do)", () => {
  for (const step of steps) expect(step.guarantees, `step ${step.id}`).toContain("everyJobRuns");
});

contractFor("everyJobRuns", (step) => {
  it("runs every job exactly once with one worker", async () => {
    const instance = await openForTest(step, "once");
    const { registry, received } = recordingJobs();
    const tracker = new RunTracker(instance.events);
    const ids = await instance.enqueueMany(
      Array.from({ length: 25 }, (_, i) => ({ name: "Record", args: { i } })),
    );
    const worker = instance.startWorker({ registry, pollIntervalMs: 20 });
    await tracker.waitForAll(ids, 20_000);
    await worker.stop();
    expect(tracker.check(ids)).toEqual({
      expected: 25,
      completed: 25,
      missing: 0,
      duplicates: 0,
    });
    expect(received.map((run) => run.jobId).sort()).toEqual([...ids].sort());
    expect(await instance.counts()).toMatchObject({ finished: 25, failed: 0 });
  });
});

describe.each(steps.map((step) => [`${step.id}-${step.slug}`, step] as const))(
  "every queue, step %s",
  (_, step: Step) => {
    it("hands every job the arguments it was enqueued with, unchanged", async () => {
      const instance = await openForTest(step, "roundtrip");
      const { registry, received } = recordingJobs();
      const cases = Object.entries(ROUND_TRIP_CASES);
      const ids = await instance.enqueueMany(cases.map(([, args]) => ({ name: "Record", args })));
      const tracker = new RunTracker(instance.events);
      const worker = instance.startWorker({ registry, pollIntervalMs: 20 });
      await tracker.waitForAll(ids, 20_000);
      await worker.stop();
      cases.forEach(([label, args], index) => {
        const run = received.find((candidate) => candidate.jobId === ids[index]);
        expect(run?.args, label).toStrictEqual(args);
      });
    });

    it("records a job with an unknown name as failed, says why, and goes on", async () => {
      const instance = await openForTest(step, "unknown");
      const { registry, received } = recordingJobs();
      const unknownId = await instance.enqueue("DeleteEverything", {});
      const nextId = await instance.enqueue("Record", { after: "unknown" });
      const failed = nextEvent(instance.events, "failed", (e) => e.jobId === unknownId);
      const finished = nextEvent(instance.events, "finished", (e) => e.jobId === nextId);
      const worker = instance.startWorker({ registry, pollIntervalMs: 20 });
      expect((await failed).error).toMatch(
        /Unknown job "DeleteEverything".*registered jobs \(Explode, Record, Sleep\)/,
      );
      await finished;
      await worker.stop();
      expect(received.map((run) => run.jobId)).toEqual([nextId]);
      expect(await instance.counts()).toMatchObject({ finished: 1, failed: 1 });
    });

    it("records a job that throws as failed with its error, and goes on", async () => {
      const instance = await openForTest(step, "throws");
      const { registry } = recordingJobs();
      const explodingId = await instance.enqueue("Explode", { message: "card declined: 4242" });
      const nextId = await instance.enqueue("Record", {});
      const failed = nextEvent(instance.events, "failed", (e) => e.jobId === explodingId);
      const finished = nextEvent(instance.events, "finished", (e) => e.jobId === nextId);
      const worker = instance.startWorker({ registry, pollIntervalMs: 20 });
      expect((await failed).error).toBe("Error: card declined: 4242");
      await finished;
      await worker.stop();
      expect(await instance.counts()).toMatchObject({ finished: 1, failed: 1 });
    });

    it("stores SQL metacharacters in a job name as data", async () => {
      const instance = await openForTest(step, "metachar");
      const { registry } = recordingJobs();
      const id = await instance.enqueue(SQL_METACHARACTERS, { also: SQL_METACHARACTERS });
      const failed = nextEvent(instance.events, "failed", (e) => e.jobId === id);
      const worker = instance.startWorker({ registry, pollIntervalMs: 20 });
      const event = await failed;
      await worker.stop();
      expect(event.name).toBe(SQL_METACHARACTERS);
      expect(event.error).toContain("Unknown job");
      expect(await instance.counts()).toMatchObject({ failed: 1 });
    });

    it("refuses arguments that would not survive JSON, and stores nothing", async () => {
      const instance = await openForTest(step, "refuse");
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const refused: [string, unknown, RegExp][] = [
        ["a function", { callback: () => 1 }, /arguments\.callback: a function has no JSON form/],
        ["undefined", { maybe: undefined }, /arguments\.maybe: a undefined has no JSON form/],
        ["a bigint", { id: 10n }, /a bigint has no JSON form/],
        ["NaN", { ratio: Number.NaN }, /NaN is not a JSON number/],
        ["a Date", { at: new Date(0) }, /a Date would not survive JSON/],
        ["a Map", [new Map()], /arguments\[0\]: a Map would not survive JSON/],
        ["a cycle", cyclic, /arguments\.self: refers back to itself/],
      ];
      for (const [label, args, message] of refused) {
        const attempt = instance.enqueueMany([
          { name: "Record", args: { fine: true } },
          { name: "Record", args: args as JsonValue },
        ]);
        await expect(attempt, label).rejects.toThrow(InvalidArgumentsError);
        await expect(attempt, label).rejects.toThrow(message);
      }
      const huge = { blob: "x".repeat(64 * 1024) };
      await expect(instance.enqueue("Record", huge)).rejects.toThrow(ArgumentsTooLargeError);
      const total = Object.values(await instance.counts()).reduce((sum, count) => sum + count, 0);
      expect(total).toBe(0);
    });
  },
);

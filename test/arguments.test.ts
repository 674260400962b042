/**
 * Arguments are JSON, checked at the door: what goes in comes back unchanged,
 * and what would not is refused with the path to the problem.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it, onTestFinished } from "vitest";
import { checkJobArguments } from "../lib/jobs/argument-schema.ts";
import { MAX_ARGUMENTS_BYTES, parseArguments, serializeArguments } from "../lib/jobs/arguments.ts";
import { sleepJob, workshopJobs } from "../lib/jobs/catalog.ts";
import {
  ArgumentsTooLargeError,
  CorruptArgumentsError,
  InvalidArgumentsError,
  JobArgumentsError,
} from "../lib/jobs/errors.ts";
import type { Step, StepInstance } from "../lib/step.ts";
import { step as step01 } from "../steps/01-naive-poll/index.ts";
import { step as step07 } from "../steps/07-retries-priorities/index.ts";
import { testDatabaseUrl } from "./services.ts";
import { nextEvent } from "./support/waiting.ts";

describe("serializeArguments", () => {
  it("accepts plain JSON values and writes what JSON.stringify writes", () => {
    const value = { a: [1, "two", null, true, { b: -0.5 }], "key with spaces": "ü" };
    expect(serializeArguments(value)).toBe(JSON.stringify(value));
  });

  it("accepts objects without a prototype (e.g. from Object.create(null))", () => {
    const bare = Object.assign(Object.create(null) as Record<string, number>, { n: 1 });
    expect(serializeArguments(bare)).toBe('{"n":1}');
  });

  it("accepts the same object twice when it is not a cycle", () => {
    const shared = { id: 1 };
    expect(serializeArguments({ first: shared, second: shared })).toBe(
      '{"first":{"id":1},"second":{"id":1}}',
    );
  });

  it("names the path of a value that JSON would change", () => {
    expect(() => serializeArguments({ user: { tags: ["a", Symbol("b")] } })).toThrow(
      "Job arguments are not JSON at arguments.user.tags[1]: a symbol has no JSON form. Nothing was enqueued.",
    );
  });

  it("refuses Infinity, class instances and typed arrays", () => {
    expect(() => serializeArguments({ x: Number.POSITIVE_INFINITY })).toThrow(
      InvalidArgumentsError,
    );
    class Money {
      cents = 100;
    }
    expect(() => serializeArguments({ price: new Money() })).toThrow(
      /a Money would not survive JSON/,
    );
    expect(() => serializeArguments(new Uint8Array(2))).toThrow(
      /a Uint8Array would not survive JSON/,
    );
  });

  it("measures the limit in UTF-8 bytes, not characters", () => {
    const threeBytes = "€"; // U+20AC is 3 bytes in UTF-8
    const fits = threeBytes.repeat(Math.floor((MAX_ARGUMENTS_BYTES - 2) / 3)); // 2 bytes for the quotes
    expect(() => serializeArguments(fits)).not.toThrow();
    expect(() => serializeArguments(`${fits}€`)).toThrow(ArgumentsTooLargeError);
  });
});

describe("parseArguments", () => {
  it("reads back what serializeArguments wrote", () => {
    const value = { list: [1, 2, { deep: "ok" }], n: Number.MAX_SAFE_INTEGER };
    expect(parseArguments(serializeArguments(value), "1")).toStrictEqual(value);
  });

  it("reports damaged stored arguments with the job's id", () => {
    expect(() => parseArguments("{not json", "17")).toThrow(CorruptArgumentsError);
    expect(() => parseArguments("{not json", "17")).toThrow(
      /Job 17 has stored arguments that are not valid JSON/,
    );
  });
});

describe("a job's arguments schema", () => {
  it("refuses what the job does not take, naming the field: a string for a number, null, a delay no timer can wait", () => {
    expect(() => checkJobArguments(sleepJob, { ms: "abc" })).toThrow(JobArgumentsError);
    expect(() => checkJobArguments(sleepJob, { ms: "abc" })).toThrow(
      'Sleep does not take these arguments: ms: Invalid input: expected number, received string. It takes e.g. {"ms":500}. Nothing was enqueued.',
    );
    expect(() => checkJobArguments(sleepJob, null)).toThrow(
      /^Sleep does not take these arguments: the arguments: Invalid input: expected object, received null\./,
    );
    // Node fires a timer of more than 2^31 - 1 ms after 1 ms: Sleep would "finish" at once.
    expect(() => checkJobArguments(sleepJob, { ms: 1e12 })).toThrow(
      /ms: at most 2147483647 \(about 24\.8 days/,
    );
    expect(() => checkJobArguments(sleepJob, { ms: 5, msec: 5 })).toThrow(
      /Unrecognized key: "msec"/,
    );
    expect(checkJobArguments(sleepJob, { ms: 5 })).toEqual({ ms: 5 });
  });

  it("is given to every workshop job, and each one's example fits it", () => {
    for (const job of workshopJobs().definitions()) {
      expect(job.arguments, job.name).toBeDefined();
      expect(checkJobArguments(job, job.exampleArguments), job.name).toEqual(job.exampleArguments);
    }
  });

  it("runs at enqueue: instance.enqueue refuses arguments that do not fit, and stores nothing", async () => {
    const instance = await openForThisTest(step01);
    await expect(instance.enqueue("Sleep", { ms: "abc" })).rejects.toThrow(JobArgumentsError);
    await expect(instance.enqueue("SendWelcomeEmail", null)).rejects.toThrow(JobArgumentsError);
    await expect(
      instance.enqueueMany([
        { name: "Noop", args: {} },
        { name: "Sleep", args: { ms: 1e12 } },
      ]),
    ).rejects.toThrow(JobArgumentsError);
    expect(await instance.counts()).toEqual({ waiting: 0, finished: 0, failed: 0 });
  });

  it("runs again in the worker: a stored row that does not fit fails at once, not retried, with the reason", async () => {
    const instance = await openForThisTest(step07);
    const database = instance.database;
    if (!database) throw new Error("step 07 has a database");
    // Written past the enqueue check, as a hand-made row or an older version of the job would be.
    const id = await instance.enqueue(
      "Sleep",
      { ms: 1 },
      { runAt: new Date(Date.now() + 3_600_000) },
    );
    await database.query(`UPDATE jobs SET arguments = '{"ms":"abc"}' WHERE id = $1`, [id]);
    await database.query(
      `WITH due AS (DELETE FROM scheduled_executions WHERE job_id = $1 RETURNING job_id)
       INSERT INTO ready_executions (job_id, queue_name, priority)
       SELECT job_id, 'default', 100 FROM due`,
      [id],
    );
    const retried: string[] = [];
    instance.events.on("retrying", (e) => retried.push(e.jobId));
    const failed = nextEvent(instance.events, "failed", (e) => e.jobId === id);
    const worker = instance.startWorker({ pollIntervalMs: 10, dispatchIntervalMs: 10 });
    onTestFinished(() => worker.stop());
    expect((await failed).error).toBe(
      `JobArgumentsError: Job ${id}'s stored arguments do not fit Sleep: ms: Invalid input: expected number, received string. It takes e.g. {"ms":500}; enqueue it again with such arguments (it is not retried: it would fail the same way).`,
    );
    expect(retried).toEqual([]);
    const [dead] = (await instance.failedJobs?.()) ?? [];
    expect(dead).toMatchObject({ jobId: id, attempts: 1 });
  });
});

/** `step` in a namespace of its own, removed when the test ends. */
async function openForThisTest(step: Step): Promise<StepInstance> {
  const instance = await step.open({
    databaseUrl: testDatabaseUrl(),
    namespace: `targs${step.id}_${randomBytes(3).toString("hex")}`,
  });
  onTestFinished(async () => {
    await instance.database?.dropSchema();
    await instance.close();
  });
  return instance;
}

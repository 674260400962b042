/**
 * A job's signal: made only when the job reads it (perform.ts says why), and
 * aborted by its timeout whenever it is read — before the timeout or after.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { JobEvents } from "../lib/events.ts";
import { JobTimeoutError } from "../lib/jobs/errors.ts";
import { defineJob, type JobContext } from "../lib/jobs/job.ts";
import { performJob } from "../lib/jobs/perform.ts";
import { JobRegistry } from "../lib/jobs/registry.ts";

/** Runs one job named `name` of `registry` with a timeout of `timeoutMs`. */
function perform(registry: JobRegistry, name: string, timeoutMs: number) {
  const job = { id: "1", name, arguments: "{}" };
  return performJob(job, { registry, workerId: "w/1", events: new JobEvents(), timeoutMs });
}

describe("a job's signal", () => {
  it("read after the timeout, is already aborted with the timeout error", async () => {
    let lateRead: Promise<AbortSignal> | undefined;
    const registry = new JobRegistry([
      defineJob({
        name: "ReadsLate",
        description: "looks at its signal only after its timeout has passed",
        exampleArguments: {},
        perform(_args, context: JobContext) {
          lateRead = sleep(100).then(() => context.signal);
          return lateRead.then(() => {});
        },
      }),
    ]);
    // The 50 ms timer is set before the job starts its 100 ms sleep, so it
    // always fires first, however slow the machine.
    const outcome = await perform(registry, "ReadsLate", 50);
    expect(outcome).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/^JobTimeoutError/),
    });
    const signal = await lateRead;
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(JobTimeoutError);
  });

  it("is one signal for the whole run, and not aborted when the job ends in time", async () => {
    const seen: AbortSignal[] = [];
    const registry = new JobRegistry([
      defineJob({
        name: "ReadsTwice",
        description: "reads its signal twice",
        exampleArguments: {},
        async perform(_args, context: JobContext) {
          seen.push(context.signal);
          await sleep(1);
          seen.push(context.signal);
        },
      }),
    ]);
    // A timeout the job cannot reach on a busy machine: it is there so that
    // the signal could be aborted, not to fire.
    expect(await perform(registry, "ReadsTwice", 60_000)).toMatchObject({ status: "finished" });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]?.aborted).toBe(false);
  });
});

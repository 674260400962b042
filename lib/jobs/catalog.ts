/**
 * The jobs the workshop enqueues: the CLI, the stories and the benchmarks use
 * these. Tests define their own with {@link defineJob}.
 *
 * Each has an `arguments` schema: they are typed at a command line, where
 * `{"ms": "abc"}` is one keystroke away. Their objects are strict (an unknown
 * key is refused), so `{"userid": 7}` is a typo caught, not a job run
 * without its user.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineJob } from "./job.ts";
import { JobRegistry } from "./registry.ts";

/**
 * Does nothing: what throughput benchmarks measure is the queue, not the work.
 * It takes any object, and ignores it: tests tag their no-op jobs (`{ i: 7 }`)
 * to tell them apart.
 */
export const noop = defineJob({
  name: "Noop",
  description: "does nothing (for benchmarks)",
  arguments: z.record(z.string(), z.json()),
  exampleArguments: {},
  perform() {},
});

/**
 * The longest a Node.js timer waits: 2^31 − 1 ms, about 24.8 days. A longer
 * delay is not refused by `setTimeout` — it fires after 1 ms, with only a
 * warning — so `Sleep` with `{"ms": 1e12}` would "finish" at once.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** Waits `ms` milliseconds: a stand-in for a job that talks to a slow API. */
export const sleepJob = defineJob({
  name: "Sleep",
  description: "waits for `ms` milliseconds, like a call to a slow API",
  arguments: z.strictObject({
    ms: z
      .int()
      .min(0)
      .max(MAX_TIMER_MS, `at most ${MAX_TIMER_MS} (about 24.8 days, the longest a timer waits)`),
  }),
  exampleArguments: { ms: 500 },
  async perform({ ms }) {
    await sleep(ms);
  },
});

/** The talk's example job, with a realistic pause. */
export const sendWelcomeEmail = defineJob({
  name: "SendWelcomeEmail",
  description: "pretends to send a welcome email (takes 50 ms)",
  arguments: z.strictObject({ userId: z.int().min(0) }),
  exampleArguments: { userId: 42 },
  async perform() {
    await sleep(50);
  },
});

/** Always throws: shows what a queue does with a failing job. */
export const alwaysFails = defineJob({
  name: "AlwaysFails",
  description: "throws an Error with `message`",
  arguments: z.strictObject({ message: z.string() }),
  exampleArguments: { message: "the payment provider said no" },
  // Three attempts, not the default ten, so that with the default backoff it
  // reaches the dead queue in under a minute (steps with retries, 07 on).
  maxAttempts: 3,
  perform({ message }) {
    throw new Error(message);
  },
});

/**
 * Kills the process running it with SIGKILL, as a crash in a native module
 * or the kernel's out-of-memory killer would: a poison job. Steps 04–07 lose
 * it or leave it claimed for ever; step 08 counts each death as an attempt
 * and buries it in the dead queue after the third, with the reason. Run it
 * in a worker process (`npm run step NN -- worker`): in the process of a
 * story or a test it would kill that too.
 */
export const killsItsWorker = defineJob({
  name: "KillsItsWorker",
  description: "SIGKILLs the worker process that runs it (a poison job)",
  arguments: z.strictObject({}),
  exampleArguments: {},
  maxAttempts: 3,
  perform() {
    process.kill(process.pid, "SIGKILL");
  },
});

/** A fresh registry holding every workshop job. */
export function workshopJobs(): JobRegistry {
  return new JobRegistry([noop, sleepJob, sendWelcomeEmail, alwaysFails, killsItsWorker]);
}

/**
 * The jobs the workshop enqueues: the CLI, the stories and the benchmarks use
 * these. Tests define their own with {@link defineJob}.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { defineJob } from "./job.ts";
import { JobRegistry } from "./registry.ts";

/** Does nothing: what throughput benchmarks measure is the queue, not the work. */
export const noop = defineJob({
  name: "Noop",
  description: "does nothing (for benchmarks)",
  exampleArguments: {},
  perform() {},
});

/** Waits `ms` milliseconds: a stand-in for a job that talks to a slow API. */
export const sleepJob = defineJob<{ ms: number }>({
  name: "Sleep",
  description: "waits for `ms` milliseconds, like a call to a slow API",
  exampleArguments: { ms: 500 },
  async perform({ ms }) {
    await sleep(ms);
  },
});

/** The talk's example job, with a realistic pause. */
export const sendWelcomeEmail = defineJob<{ userId: number }>({
  name: "SendWelcomeEmail",
  description: "pretends to send a welcome email (takes 50 ms)",
  exampleArguments: { userId: 42 },
  async perform() {
    await sleep(50);
  },
});

/** Always throws: shows what a queue does with a failing job. */
export const alwaysFails = defineJob<{ message: string }>({
  name: "AlwaysFails",
  description: "throws an Error with `message`",
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
export const killsItsWorker = defineJob<Record<string, never>>({
  name: "KillsItsWorker",
  description: "SIGKILLs the worker process that runs it (a poison job)",
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

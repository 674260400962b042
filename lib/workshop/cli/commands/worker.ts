/**
 * `npm run step NN -- worker`: a worker in this terminal until Ctrl-C.
 *
 * @module
 */
import type { JobEventMap } from "../../../events.ts";
import type { GivenSettings, StepInstance, WorkerOptions } from "../../../step.ts";
import { clock, surviveLostOutput } from "../terminal.ts";

/** Why a stopping worker gave a job back, as its log line says it. */
const RELEASE_REASONS: Record<JobEventMap["released"]["reason"], string> = {
  "still running": "still running at the shutdown timeout",
  "outcome not recorded": "ran, but its outcome was not recorded at the shutdown timeout",
  "not started": "claimed ahead and not started when the worker stopped",
};

/**
 * Runs until SIGINT or SIGTERM. The first signal stops claiming and waits for
 * running jobs; a second one exits at once (jobs still running are then the
 * step's crash story).
 */
export async function runWorkerCommand(
  instance: StepInstance,
  options: WorkerOptions & GivenSettings,
): Promise<void> {
  surviveLostOutput(); // an orphan of a killed supervisor must still stop cleanly
  const { events } = instance;
  events.on("started", (e) =>
    console.log(`${clock(e.at)}  ${e.workerId}  ▶ job ${e.jobId} ${e.name}`),
  );
  events.on("finished", (e) =>
    console.log(
      `${clock(e.at)}  ${e.workerId}  ✓ job ${e.jobId} ${e.name} (${e.durationMs.toFixed(1)} ms)`,
    ),
  );
  events.on("failed", (e) =>
    console.log(`${clock(e.at)}  ${e.workerId}  ✗ job ${e.jobId} ${e.name}: ${e.error}`),
  );
  events.on("retrying", (e) =>
    console.log(
      `${clock(e.at)}  ${e.workerId}  ↻ job ${e.jobId} ${e.name}: attempt ${e.attempt} failed (${e.error}); retry at ${clock(e.retryAt)}`,
    ),
  );
  events.on("recovered", (e) =>
    console.log(
      `${clock(e.at)}  ${e.workerId}  ⟲ job ${e.jobId} ${e.name}: its process ${e.deadProcess} died → ${e.disposition === "retry" ? "retry" : "dead queue"}`,
    ),
  );
  events.on("released", (e) =>
    console.log(
      `${clock(e.at)}  ${e.workerId}  ↩ job ${e.jobId} ${e.name}: ${RELEASE_REASONS[e.reason]}, released back to ready`,
    ),
  );
  events.on("superseded", (e) =>
    console.log(
      `${clock(e.at)}  ${e.workerId}  ⊘ job ${e.jobId} ${e.name} ${e.status}, but its claim had been taken away: not recorded (it runs again elsewhere)`,
    ),
  );
  events.on("workerError", (e) =>
    console.error(`${clock(e.at)}  ${e.workerId}  ! ${e.error} (retrying)`),
  );

  // Listen for the signals before anything starts, so that a SIGTERM sent the
  // moment the worker announces itself is a clean stop, not a kill.
  const stopRequested = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      console.log(
        `\n${signal}: finishing running jobs, then stopping (send again to exit at once)…`,
      );
      process.once("SIGINT", () => process.exit(130));
      process.once("SIGTERM", () => process.exit(143));
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  const worker = instance.startWorker(options);
  console.log(
    `Step ${instance.step.id} worker ${worker.id} running with ${options.concurrency ?? 1} slot(s) in schema/prefix ${instance.namespace}. Ctrl-C to stop.`,
  );
  await stopRequested;
  await worker.stop();
  console.log("Worker stopped.");
  // Steps with a shutdown timeout (08 on) may stop while a job still runs in
  // this process: its claim went back to ready and it runs elsewhere. Its
  // timers would keep Node alive; end now instead of waiting for them.
  process.exit(0);
}

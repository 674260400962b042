/**
 * The contract suite: `deadWorkersNoticed` — a worker that dies is noticed.
 *
 * Enforced where declared: a worker process, started with a short heartbeat
 * interval and alive threshold (`--heartbeat-interval`, `--alive-threshold`:
 * a step that declares the guarantee must accept both), is reported alive
 * by the step's `processes()` for longer than its threshold while it lives,
 * and reported dead within that threshold (plus a second for the test's own
 * polling and a loaded machine) once it is killed with SIGKILL.
 *
 * Not demonstrated where not declared: the steps without it keep no record
 * of their workers at all, so there is nothing to look at and find wrong — a
 * test there could not fail. Their version of the problem, the dead worker's
 * job that never runs again, is what worker-crash.test.ts demonstrates.
 */
import { expect, it } from "vitest";
import type { ProcessReport, StepInstance } from "../../lib/step.ts";
import { contractFor } from "../support/contract.ts";
import { openForTest } from "../support/open.ts";
import { eventually } from "../support/waiting.ts";
import { spawnWorker } from "../support/worker-process.ts";

const HEARTBEAT_INTERVAL_MS = 100;
const ALIVE_THRESHOLD_MS = 1_500;
/** Polling every 20 ms, on a machine busy with other test files. */
const SLACK_MS = 1_000;

// Only the steps that declare it: see the file's comment.
contractFor(
  "deadWorkersNoticed",
  (step) => {
    it("reports a live worker process alive past its threshold, and dead within it once killed with SIGKILL", async () => {
      const instance = await openForTest(step, "dead");
      const report = processReporter(instance);
      const worker = spawnWorker(instance, [
        "--heartbeat-interval",
        String(HEARTBEAT_INTERVAL_MS),
        "--alive-threshold",
        String(ALIVE_THRESHOLD_MS),
      ]);
      const pid = worker.child.pid;
      try {
        let row: ProcessReport | undefined;
        await eventually(
          async () => {
            row = (await report()).find((p) => p.pid === pid);
            return row !== undefined;
          },
          "the worker process to register",
          20_000,
        );
        // Alive, for longer than its threshold: its heartbeats keep it so.
        await eventually(
          async () =>
            ((await report()).find((p) => p.pid === pid)?.ageMs ?? 0) > ALIVE_THRESHOLD_MS * 1.5,
          "the worker to have lived one and a half thresholds",
        );
        expect((await report()).find((p) => p.pid === pid)?.alive).toBe(true);

        worker.child.kill("SIGKILL");
        await worker.exited;
        const killedAt = Date.now();
        await eventually(
          async () => (await report()).find((p) => p.pid === pid)?.alive === false,
          "the killed worker to be reported dead",
          ALIVE_THRESHOLD_MS + SLACK_MS,
        );
        expect(Date.now() - killedAt).toBeLessThanOrEqual(ALIVE_THRESHOLD_MS + SLACK_MS);
      } finally {
        if (worker.child.exitCode === null && worker.child.signalCode === null) {
          worker.child.kill("SIGKILL");
        }
      }
    }, 60_000);
  },
  (step) => step.guarantees.includes("deadWorkersNoticed"),
);

/** The step's `processes()`; a step that declares the guarantee without it fails here. */
function processReporter(instance: StepInstance): () => Promise<readonly ProcessReport[]> {
  const { processes } = instance;
  if (!processes) {
    throw new Error(
      `Step ${instance.step.id} declares deadWorkersNoticed but its instance has no processes(): add it (see StepInstance.processes).`,
    );
  }
  return () => processes.call(instance);
}

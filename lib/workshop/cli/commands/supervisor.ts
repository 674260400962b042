/**
 * `npm run step NN -- worker --processes N`: a supervisor in this terminal,
 * for steps that have one, until Ctrl-C.
 *
 * @module
 */
import type { GivenSettings, StepInstance } from "../../../step.ts";
import { COMMAND_USAGE } from "../usage.ts";
import { UsageError } from "../usage-error.ts";

/**
 * Runs the step's supervisor until SIGINT or SIGTERM, then forwards that
 * signal to its worker processes and waits for them; a second signal exits at
 * once (the worker processes then notice their supervisor is gone, and stop).
 */
export async function runSupervisorCommand(
  instance: StepInstance,
  processes: number,
  workerArgs: readonly string[],
  settings: GivenSettings,
): Promise<void> {
  if (!instance.supervise) {
    throw new UsageError(
      `Step ${instance.step.id} has no supervisor: --processes needs a step that has one (06 on). Start several workers in several terminals instead.`,
      COMMAND_USAGE.worker(instance.step),
    );
  }
  const supervisor = await instance.supervise({
    processes,
    workerArgs,
    ...settings,
    out: { line: (text = "") => console.log(text) },
  });
  console.log(
    `Step ${instance.step.id} supervisor ${supervisor.id} (pid ${process.pid}) running ${processes} worker process(es) in schema/prefix ${instance.namespace}. Ctrl-C to stop.`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (received: NodeJS.Signals) => {
      console.log(`\n${received}: passing it on to the workers, waiting for them to exit…`);
      process.once("SIGINT", () => process.exit(130));
      process.once("SIGTERM", () => process.exit(143));
      resolve(received);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await supervisor.stop(signal);
  console.log("Supervisor stopped.");
}

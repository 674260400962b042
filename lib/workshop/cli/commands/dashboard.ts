/**
 * `npm run step NN -- dashboard`: the step's queue in a browser, live, until
 * Ctrl-C (see `lib/workshop/dashboard/`).
 *
 * @module
 */
import type { StepInstance } from "../../../step.ts";
import { type DashboardOptions, startDashboard } from "../../dashboard/server.ts";

export async function runDashboardCommand(
  instance: StepInstance,
  options: DashboardOptions,
): Promise<void> {
  const dashboard = await startDashboard(instance, options);
  console.log(`Step ${instance.step.id} dashboard (${instance.namespace}): ${dashboard.url}`);
  if (options.host !== "127.0.0.1" && options.host !== "localhost" && options.host !== "::1") {
    console.log(
      `Listening on ${options.host}: anyone who can reach it can retry and discard jobs, with no password. See the README's "The dashboard" section.`,
    );
  }
  console.log("Ctrl-C to stop.");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await dashboard.close();
}

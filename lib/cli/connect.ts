/**
 * Opening a step against the services: resolve where PostgreSQL / Redis are
 * (an override URL, or the local servers, started on first use), then open.
 *
 * @module
 */
import { databaseUrl, redisUrl } from "../services/index.ts";
import type { OpenRequest, Step, StepInstance } from "../step.ts";
import { findStep } from "../step-directory.ts";

/** URLs of the services, each resolved on first need and then reused. */
export interface ServiceUrls {
  databaseUrl?: string;
  redisUrl?: string;
}

/** Progress of starting a local server goes to stderr, so stdout stays clean for `--json`. */
const onProgress = (message: string) => process.stderr.write(`${message}\n`);

/** Makes sure `urls` has what `step` needs. */
export async function resolveServicesFor(step: Step, urls: ServiceUrls): Promise<void> {
  if (step.backend === "postgres") urls.databaseUrl ??= await databaseUrl({ onProgress });
  else urls.redisUrl ??= await redisUrl({ onProgress });
}

/** Opens `step` against `urls`, resolving the service it needs first. */
export async function openStep(
  step: Step,
  urls: ServiceUrls,
  request: Omit<OpenRequest, "step"> = {},
): Promise<StepInstance> {
  await resolveServicesFor(step, urls);
  return step.open({ ...urls, namespace: request.namespace, poolSize: request.poolSize });
}

/** An `open` for a `RunContext`: opens `current`, or another step by id. */
export function opener(allSteps: readonly Step[], current: Step, urls: ServiceUrls) {
  return (request: OpenRequest = {}): Promise<StepInstance> => {
    const step = request.step === undefined ? current : findStep(allSteps, request.step);
    if (!step) throw new Error(`No step ${request.step}.`);
    return openStep(step, urls, request);
  };
}

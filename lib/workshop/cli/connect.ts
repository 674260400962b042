/**
 * Opening a step against the services: resolve where PostgreSQL / Redis are
 * (an override URL, or the local servers, started on first use), then open.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Step, StepInstance } from "../../step.ts";
import type { Peer, PeerInstance } from "../bench/peers/peer.ts";
import type { OpenRequest } from "../demo.ts";
import {
  databaseUrl,
  PostgresUnavailableError,
  RedisUnavailableError,
  redisUrl,
} from "../services/index.ts";
import { findStep } from "../step-directory.ts";

/** URLs of the services, each resolved on first need and then reused. */
export interface ServiceUrls {
  databaseUrl?: string;
  redisUrl?: string;
}

/** Progress of starting a local server goes to stderr, so stdout stays clean for `--json`. */
const onProgress = (message: string) => process.stderr.write(`${message}\n`);

/** Makes sure `urls` has what `step` (or a peer) needs. */
async function resolveServicesFor(step: Pick<Step, "backend">, urls: ServiceUrls): Promise<void> {
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

/** Opens a peer of the benchmark against `urls`, resolving the service it needs first. */
export async function openPeer(
  peer: Peer,
  urls: ServiceUrls,
  namespace: string,
): Promise<PeerInstance> {
  await resolveServicesFor(peer, urls);
  const url = peer.backend === "postgres" ? urls.databaseUrl : urls.redisUrl;
  if (url === undefined) throw new Error(`No ${peer.backend} server for ${peer.name}.`);
  return peer.open({ url, namespace });
}

/** How long a worker waits before asking an unreachable server again. */
const RETRY_UNREACHABLE_MS = 2_000;

/**
 * Like {@link openStep}, for a worker: when the server named by `DATABASE_URL`
 * or `REDIS_URL` does not answer, it says so and asks again every two seconds
 * until it does (or the worker is stopped). A worker started before its
 * database — after a reboot, say — should wait for it, not exit and leave the
 * queue unserved. Other failures (no redis-server to start, a bad schema) are
 * not going to fix themselves, and are thrown.
 */
export async function openStepWhenReachable(
  step: Step,
  urls: ServiceUrls,
  request: Omit<OpenRequest, "step"> = {},
): Promise<StepInstance> {
  const variable = step.backend === "postgres" ? "DATABASE_URL" : "REDIS_URL";
  for (;;) {
    try {
      return await openStep(step, urls, request);
    } catch (error) {
      const unreachable =
        error instanceof PostgresUnavailableError || error instanceof RedisUnavailableError;
      if (!unreachable || !process.env[variable]) throw error;
      const reason = error.message.split("\n")[0];
      process.stderr.write(
        `${reason} Asking again in ${RETRY_UNREACHABLE_MS / 1000} s (Ctrl-C to stop)…\n`,
      );
      await sleep(RETRY_UNREACHABLE_MS);
    }
  }
}

/** An `open` for a `RunContext`: opens `current`, or another step by id. */
export function opener(allSteps: readonly Step[], current: Step, urls: ServiceUrls) {
  return (request: OpenRequest = {}): Promise<StepInstance> => {
    const step = request.step === undefined ? current : findStep(allSteps, request.step);
    if (!step) throw new Error(`No step ${request.step}.`);
    return openStep(step, urls, request);
  };
}

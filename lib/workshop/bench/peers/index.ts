/**
 * The production queues `npm run bench -- --peers` measures beside the steps,
 * in the order of their rows.
 *
 * @module
 */
import { bullmq } from "./bullmq.ts";
import { graphileWorker, graphileWorkerBatched } from "./graphile-worker.ts";
import type { Peer } from "./peer.ts";

export const PEERS: readonly Peer[] = [graphileWorker, graphileWorkerBatched, bullmq];

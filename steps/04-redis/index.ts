/**
 * Step 04 — Redis, the Sidekiq way: `LPUSH` to enqueue, `BRPOP` to take. Fast and simple,
 * and a worker that dies mid-job takes the job with it.
 *
 * @module
 */
import { assembleInstance, defaultNamespace } from "../../lib/instance.ts";
import { CommandCounter, connectRedis } from "../../lib/redis/connection.ts";
import { deleteNamespace } from "../../lib/redis/delete-namespace.ts";
import type { Step } from "../../lib/step.ts";
import { addFinishedHistory, countJobs } from "./counts.ts";
import { pushJobs } from "./enqueue.ts";
import { startRedisWorker } from "./worker.ts";
import { WORKER_SETTINGS } from "./worker-settings.ts";

export const step: Step = {
  id: "04",
  slug: "redis",
  title: "Redis: LPUSH to enqueue, BRPOP to take (the Sidekiq way)",
  // A different design, not a fix of step 03's code: compared with 03, built on nothing.
  buildsOn: null,
  backend: "redis",
  // BRPOP is atomic and blocking: every job runs, never twice, at once. Not kept: a worker
  // killed mid-job loses its job (BRPOP removed it; the contract suite demonstrates it with a
  // real SIGKILL), and enqueue cannot join the application's database transaction
  // (redis.test.ts demonstrates a job that runs for a rolled-back row).
  guarantees: ["everyJobRuns", "noDuplicatesWithHealthyWorkers", "lowLatencyPickup"],
  workerSettings: WORKER_SETTINGS,

  async open(options) {
    const url = options.redisUrl;
    if (!url) {
      throw new Error(
        `Step ${step.id} needs Redis: pass redisUrl (the CLI resolves it from REDIS_URL or the local redis-server).`,
      );
    }
    const namespace = options.namespace ?? defaultNamespace(step);
    const counter = new CommandCounter();
    // Enqueue, counts, reset and the workers' stop signals go through this one connection;
    // each worker slot opens its own (see worker.ts).
    const redis = connectRedis({ url, namespace, name: namespace, counter });
    return assembleInstance({
      step,
      namespace,
      redis,
      insertJobs: (jobs) => pushJobs(redis, jobs),
      startWorker: (events, workerOptions) =>
        startRedisWorker({ url, namespace, counter, control: redis, events }, workerOptions),
      counts: () => countJobs(redis),
      fillHistory: (count) => addFinishedHistory(redis, count),
      statementsSent: () => counter.sent,
      // Nothing to recreate: Redis has no schema. Every key of the namespace goes.
      reset: async () => {
        await deleteNamespace(redis, namespace);
      },
      close: async () => {
        // QUIT waits for the replies still due; with the server away there are none to wait for.
        if (redis.status === "ready") await redis.quit().catch(() => redis.disconnect());
        else redis.disconnect();
      },
    });
  },
};

/**
 * Step 09 — reliable Redis: step 04's queue, with `BLMOVE` into a processing list per worker
 * process, heartbeat keys that expire, a reaper that sends a dead process's jobs through the
 * retry path, retries and a dead queue, scheduled jobs, and a graceful stop — every change of
 * several keys in one Lua script. Sidekiq Pro's super_fetch, BullMQ's stalled-job check.
 *
 * @module
 */
import { assembleInstance, defaultNamespace } from "../../lib/instance.ts";
import { CommandCounter, connectRedis } from "../../lib/redis/connection.ts";
import { deleteNamespace } from "../../lib/redis/delete-namespace.ts";
import type { Step } from "../../lib/step.ts";
import { readSettings } from "../../lib/worker-settings.ts";
import { addFinishedHistory, countJobs, countReadyByQueue } from "./counts.ts";
import { discardDeadJobs, listDeadJobs, retryDeadJobs } from "./dead-jobs.ts";
import { pushJobs } from "./enqueue.ts";
import { listProcesses } from "./processes.ts";
import { listScheduledJobs } from "./scheduled.ts";
import { startSupervisor } from "./supervisor.ts";
import { startReliableWorker } from "./worker.ts";
import { WORKER_SETTINGS } from "./worker-settings.ts";

export const step: Step = {
  id: "09",
  slug: "reliable-redis",
  title: "Reliable Redis: BLMOVE into a processing list, heartbeats, a reaper (super_fetch)",
  buildsOn: "04",
  backend: "redis",
  // Step 04's three, and now: a job whose worker is killed mid-run runs again, dead workers
  // are noticed (their heartbeat key expires) and their jobs recovered through the retry
  // path, failed jobs are retried and then kept in a dead queue, and jobs can be scheduled.
  // Still not kept: enqueue cannot join the application's database transaction, and without
  // the AOF a Redis restart loses everything (reliable-redis.test.ts shows both).
  guarantees: [
    "everyJobRuns",
    "noDuplicatesWithHealthyWorkers",
    "lowLatencyPickup",
    "survivesWorkerCrash",
    "deadWorkersNoticed",
    "recovery",
    "retries",
    "scheduledJobs",
  ],
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
    // Enqueue, counts, reset, and a worker's heartbeats, reaper, mover and hand-back go
    // through this one connection; each worker slot opens its own (see worker.ts).
    const redis = connectRedis({ url, namespace, name: namespace, counter });
    return assembleInstance({
      step,
      namespace,
      redis,
      insertJobs: (jobs) => pushJobs(redis, jobs),
      startWorker: (events, workerOptions) =>
        startReliableWorker(
          { url, namespace, counter, control: redis, events },
          { ...workerOptions, ...readSettings(WORKER_SETTINGS, workerOptions) },
        ),
      counts: () => countJobs(redis),
      queues: () => countReadyByQueue(redis),
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
      processes: () => listProcesses(redis),
      supervise: (supervisorOptions) =>
        startSupervisor(redis, step.id, namespace, {
          ...supervisorOptions,
          ...readSettings(WORKER_SETTINGS, supervisorOptions),
        }),
      failedJobs: () => listDeadJobs(redis),
      retryFailedJobs: (which) => retryDeadJobs(redis, which),
      discardFailedJobs: (which) => discardDeadJobs(redis, which),
      scheduledJobs: (limit) => listScheduledJobs(redis, limit),
    });
  },
};

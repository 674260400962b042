/**
 * BullMQ, a Redis job queue for Node.js, as a reference row, with its defaults.
 *
 * Jobs go in with a `Queue` (`addBulk` for bulk: one MULTI per call); a worker
 * is one `Worker` with `concurrency` slots, in this process, each with the
 * connections BullMQ opens itself from the URL. The no-op processor announces
 * `started`; `finished` comes from the worker's `completed` event, which
 * BullMQ emits once the Lua script that moves the job to its completed set
 * has returned.
 *
 * @module
 */
import { Worker as BullWorker, type Job, Queue } from "bullmq";
import { JobEvents, now } from "../../../events.ts";
import { connectRedis } from "../../../redis/connection.ts";
import { deleteNamespace } from "../../../redis/delete-namespace.ts";
import type { Worker } from "../../../step.ts";
import { packageVersion } from "../environment.ts";
import type { Peer, PeerInstance, PeerOpenOptions } from "./peer.ts";

const VERSION = packageVersion("bullmq");
/** The one queue it uses; its keys are `<namespace>:noop:…`. */
const QUEUE = "noop";
const JOB = "Noop";

export const bullmq: Peer = {
  name: `BullMQ ${VERSION} (reference)`,
  slug: "bullmq",
  chartLabel: `bmq BullMQ ${VERSION}`,
  backend: "redis",
  settings:
    `BullMQ ${VERSION} with its defaults: Queue and Worker connecting by URL, completed jobs kept ` +
    "(removeOnComplete off), 30 s locks renewed every 15 s, a stalled-job check every 30 s; " +
    "enqueue with add, addBulk for bulk",
  open: openBullmq,
};

async function openBullmq({ url, namespace }: PeerOpenOptions): Promise<PeerInstance> {
  // A connection of the workshop's own, for `reset` and `close` only: BullMQ's keys are all
  // under its prefix, which is the namespace, so deleting the namespace deletes them all.
  const cleanup = connectRedis({ url, namespace, name: `${namespace}:cleanup` });
  const queue = new Queue(QUEUE, { connection: { url }, prefix: namespace });
  try {
    await queue.waitUntilReady();
  } catch (error) {
    cleanup.disconnect();
    await queue.close();
    throw error;
  }
  const workerId = `bullmq ${namespace}`;
  const events = new JobEvents();
  const startedAt = new Map<string, number>();

  const idOf = (job: Job): string => {
    if (job.id === undefined) throw new Error(`BullMQ returned a ${job.name} job without an id.`);
    return job.id;
  };
  const noop = async (job: Job) => {
    const at = now();
    startedAt.set(idOf(job), at);
    events.emit("started", { jobId: idOf(job), name: JOB, workerId, at });
  };

  return {
    label: bullmq.name,
    events,
    enqueueNoop: async () => idOf(await queue.add(JOB, {})),
    enqueueNoops: async (count) =>
      (await queue.addBulk(Array.from({ length: count }, () => ({ name: JOB, data: {} })))).map(
        idOf,
      ),
    async startWorker(concurrency): Promise<Worker> {
      const worker = new BullWorker(QUEUE, noop, {
        connection: { url },
        prefix: namespace,
        concurrency,
      });
      worker.on("completed", (job) => {
        const at = now();
        const id = idOf(job);
        const began = startedAt.get(id) ?? at;
        startedAt.delete(id);
        events.emit("finished", { jobId: id, name: JOB, workerId, at, durationMs: at - began });
      });
      // A failed attempt is the end only when no attempts are left (one, by default).
      worker.on("failed", (job, error) => {
        if (!job || job.attemptsMade < (job.opts.attempts ?? 1)) return;
        startedAt.delete(idOf(job));
        events.emit("failed", {
          jobId: idOf(job),
          name: JOB,
          workerId,
          at: now(),
          error: String(error),
        });
      });
      await worker.waitUntilReady();
      return { id: workerId, stop: () => worker.close() };
    },
    async reset() {
      startedAt.clear();
      await deleteNamespace(cleanup, namespace);
    },
    async close() {
      try {
        await queue.close();
        await deleteNamespace(cleanup, namespace);
      } finally {
        cleanup.disconnect();
      }
    },
  };
}

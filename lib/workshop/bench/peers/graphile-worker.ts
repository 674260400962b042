/**
 * graphile-worker, a PostgreSQL job queue for Node.js, as a reference row —
 * twice: with its defaults, and with the batching its own benchmark switches
 * on.
 *
 * Jobs go in with its `WorkerUtils` (`addJobs` for bulk: one statement per
 * call); a worker is one `run()`, a pool of `concurrency` slots with its own
 * connection pool, in this process. The no-op task announces `started` as a
 * step's worker does before `perform`; `finished` comes from its `job:success`
 * event. That event fires when the task returns: graphile-worker does not wait
 * for the job's completion to be written before it moves on (nor, batched,
 * before the batch is flushed), so its clock stops a round trip or a batch
 * earlier than a step's, whose `finished` follows its commit. The last
 * completions are written while the worker stops, which the CPU measure
 * includes.
 *
 * @module
 */
import { EventEmitter } from "node:events";
import {
  type Job,
  Logger,
  makeWorkerUtils,
  type Runner,
  run,
  type Task,
  type WorkerEvents,
} from "graphile-worker";
import { JobEvents, now } from "../../../events.ts";
import { assertNamespace } from "../../../redis/connection.ts";
import type { Worker } from "../../../step.ts";
import { packageVersion } from "../environment.ts";
import type { Peer, PeerInstance, PeerOpenOptions } from "./peer.ts";

const VERSION = packageVersion("graphile-worker");
const TASK = "Noop";

/**
 * The batching of graphile-worker's published benchmark: each pool locks up
 * to 500 jobs at a time into a local queue its slots take from, and
 * completions are gathered for one tick (`0` ms) and written in one
 * statement. Both are off by default (`-1`).
 */
const BATCHING = { localQueue: { size: 500 }, completeJobBatchDelay: 0 } as const;

/**
 * A logger that drops every line: by default graphile-worker prints one per
 * job done, which would bury the table and cost CPU the steps do not spend.
 */
const SILENT = new Logger(() => () => {});

export const graphileWorker: Peer = graphileWorkerPeer(false);
export const graphileWorkerBatched: Peer = graphileWorkerPeer(true);

function graphileWorkerPeer(batched: boolean): Peer {
  const name = `graphile-worker ${VERSION}${batched ? ", batched" : ""} (reference)`;
  return {
    name,
    slug: batched ? "gw_batched" : "gw",
    chartLabel: batched ? `gw-b ${VERSION} batched` : `gw ${VERSION}`,
    backend: "postgres",
    settings: batched
      ? `graphile-worker ${VERSION} with batching on (localQueue.size ${BATCHING.localQueue.size}, ` +
        `completeJobBatchDelay ${BATCHING.completeJobBatchDelay} ms), its defaults otherwise (as above)`
      : `graphile-worker ${VERSION} with its defaults: a pool of 10 connections (maxPoolSize), ` +
        "LISTEN/NOTIFY and a 2 s poll, one job locked per fetch, each completion written on its own " +
        "(completeJobBatchDelay -1), prepared statements; enqueue with addJob, addJobs for bulk; " +
        "its log lines dropped, its signal handlers off (noHandleSignals)",
    open: (options) => openGraphileWorker(options, name, batched),
  };
}

async function openGraphileWorker(
  { url, namespace }: PeerOpenOptions,
  label: string,
  batched: boolean,
): Promise<PeerInstance> {
  // The namespace becomes a schema name in the SQL below: letters, digits and '_' only.
  assertNamespace(namespace);
  const shared = { connectionString: url, schema: namespace, logger: SILENT };
  const utils = await makeWorkerUtils(shared);
  try {
    await utils.migrate();
  } catch (error) {
    await utils.release();
    throw error;
  }
  const events = new JobEvents();
  const startedAt = new Map<string, number>();
  // Its events, passed in rather than read from the runner: jobs can start
  // before `run()` resolves, and their events must not be missed.
  const workerEvents: WorkerEvents = new EventEmitter();
  workerEvents.on("job:success", ({ worker, job }) => {
    const at = now();
    const began = startedAt.get(job.id) ?? at;
    startedAt.delete(job.id);
    events.emit("finished", {
      jobId: job.id,
      name: TASK,
      workerId: worker.workerId,
      at,
      durationMs: at - began,
    });
  });
  workerEvents.on("job:failed", ({ worker, job, error }) => {
    startedAt.delete(job.id);
    events.emit("failed", {
      jobId: job.id,
      name: TASK,
      workerId: worker.workerId,
      at: now(),
      error: String(error),
    });
  });
  const noop: Task = (_payload, helpers) => {
    const at = now();
    startedAt.set(helpers.job.id, at);
    events.emit("started", {
      jobId: helpers.job.id,
      name: TASK,
      workerId: helpers.job.locked_by ?? "graphile-worker",
      at,
    });
  };

  const idOf = (job: Job) => job.id;
  return {
    label,
    events,
    enqueueNoop: async () => idOf(await utils.addJob(TASK, {})),
    enqueueNoops: async (count) =>
      (
        await utils.addJobs(
          Array.from({ length: count }, () => ({ identifier: TASK, payload: {} })),
        )
      ).map(idOf),
    async startWorker(concurrency): Promise<Worker> {
      const runner: Runner = await run({
        ...shared,
        concurrency,
        taskList: { [TASK]: noop },
        events: workerEvents,
        noHandleSignals: true,
        ...(batched ? { preset: { worker: BATCHING } } : {}),
      });
      return { id: `graphile-worker ${namespace}`, stop: () => runner.stop() };
    },
    async reset() {
      startedAt.clear();
      await utils.withPgClient((client) =>
        client.query(`TRUNCATE ${namespace}._private_jobs, ${namespace}._private_job_queues`),
      );
    },
    async close() {
      try {
        await utils.withPgClient((client) => client.query(`DROP SCHEMA ${namespace} CASCADE`));
      } finally {
        await utils.release();
      }
    },
  };
}

/**
 * What the throughput and latency scenarios drive: a queue that takes no-op
 * jobs, runs them with a worker, and says when each one started and ended.
 *
 * A step is one ({@link benchQueueOf}); so is each production queue in
 * `peers/`, measured beside the steps as a reference. The scenarios ask for
 * nothing more, so a peer need not pretend to be a step: it has no job
 * registry, no enqueue options, no history to fill.
 *
 * @module
 */
import type { JobEvents } from "../../events.ts";
import type { EnqueueOptions, NewJob, StepInstance, Worker } from "../../step.ts";

export interface BenchQueue {
  /** How progress lines name it: `step 08`, `graphile-worker 0.17.3 (reference)`. */
  readonly label: string;
  /**
   * `started` when a job's no-op begins; `finished` (or `failed`) when the
   * queue reports it done. Counted per job id, so a job run twice shows.
   */
  readonly events: JobEvents;
  /** Stores one no-op job and returns its id; a worker can take it when this resolves. */
  enqueueNoop(): Promise<string>;
  /** Stores `count` no-op jobs in one round trip (or as few as the queue allows). */
  enqueueNoops(count: number): Promise<string[]>;
  /** Starts a worker in this process with `concurrency` slots; resolves once it is running. */
  startWorker(concurrency: number): Promise<Worker>;
}

const NOOP: NewJob = { name: "Noop", args: {} };

/**
 * A step, as the scenarios drive it: its `Noop` job, `enqueueMany` for bulk,
 * its own worker. `options` go with every job, for a step's benchmark that
 * times what one costs (step 12: a rate limit that is never reached).
 */
export function benchQueueOf(instance: StepInstance, options: EnqueueOptions = {}): BenchQueue {
  const noop: NewJob = { ...NOOP, ...options };
  return {
    label: `step ${instance.step.id}`,
    events: instance.events,
    enqueueNoop: () => instance.enqueue(noop.name, noop.args, options),
    enqueueNoops: (count) => instance.enqueueMany(Array.from({ length: count }, () => noop)),
    startWorker: async (concurrency) => instance.startWorker({ concurrency }),
  };
}

/** The scenarios take a step's instance as it is (the steps' own benchmarks pass one), or a peer. */
export function asBenchQueue(queue: StepInstance | BenchQueue): BenchQueue {
  return "step" in queue ? benchQueueOf(queue) : queue;
}

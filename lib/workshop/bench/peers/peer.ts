/**
 * A production queue measured beside the steps, as a reference: what a
 * learner's queue stands against (`npm run bench -- --peers`).
 *
 * A peer runs the scenarios that every queue can be put through from outside
 * — throughput and pickup latency — with a no-op task, on the same servers as
 * the steps, in the same run. It is not a step: no lesson, no guarantees, no
 * history to fill or statements to count, so it implements only what those
 * two scenarios drive ({@link BenchQueue}), and a way to start over and to
 * leave nothing behind.
 *
 * @module
 */
import type { Backend } from "../../../step.ts";
import type { BenchQueue } from "../bench-queue.ts";

/** Where a peer keeps its jobs: its server, and a schema or key prefix of its own. */
export interface PeerOpenOptions {
  /** `DATABASE_URL` for a PostgreSQL peer, `REDIS_URL` for a Redis one. */
  readonly url: string;
  /** Its PostgreSQL schema, or its Redis key prefix. */
  readonly namespace: string;
}

/** A peer opened against its server. */
export interface PeerInstance extends BenchQueue {
  /** Deletes every job it holds, so that each scenario starts from an empty queue. */
  reset(): Promise<void>;
  /** Removes its schema or keys and closes its connections. Stop its workers first. */
  close(): Promise<void>;
}

export interface Peer {
  /** Its row in the table: `graphile-worker 0.17.3, batched (reference)`. */
  readonly name: string;
  /** Lowercase letters, digits and `_`, for its namespace: `bench_gw_batched`. */
  readonly slug: string;
  /**
   * Its name in the charts, short enough for a legend (`gw-b 0.17.3 batched`):
   * the first word, which goes under its bars, is short enough for a chart of
   * twenty bars. Grey bars mark it as a reference.
   */
  readonly chartLabel: string;
  readonly backend: Backend;
  /** How it is set up, in one sentence: printed under the table and in the report. */
  readonly settings: string;
  open(options: PeerOpenOptions): Promise<PeerInstance>;
}

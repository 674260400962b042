/**
 * Taking a job: `BRPOP`, Sidekiq's "basic fetch".
 *
 * @module
 */
import type { Redis } from "ioredis";
import { QUEUE } from "./keys.ts";

/** What a worker slot's BRPOP brought: a job entry, or its own stop signal. */
export type Taken = { readonly kind: "job"; readonly entry: string } | { readonly kind: "stop" };

/**
 * Waits, without polling, until there is a job, and takes it.
 *
 * `BRPOP key… timeout` pops the last element of the first non-empty list among `key…`; when
 * all are empty the server parks the connection until something is pushed (timeout 0: for as
 * long as it takes), then hands the element to the client that has waited longest. So a job
 * is picked up the moment it is pushed, an idle worker sends nothing at all, and two workers
 * never get the same job: the pop is one atomic step on the server.
 *
 * And the job is gone. From the moment BRPOP returns, the only copy is in this process's
 * memory: if the process dies before the job finishes — `kill -9`, the OOM killer, a
 * container that is replaced, a power cut — nothing anywhere says the job existed. Sidekiq's
 * free version works exactly like this (`BasicFetch`), and says so. Its paid "reliable fetch"
 * (and BullMQ) uses `LMOVE queue processing:<worker>` instead, so the job is in a list of its
 * own worker while it runs, removed only when it is done, and a process that starts up can
 * push back the jobs of dead workers. That needs knowing which workers are dead — heartbeats,
 * step 06 — and is a later step's lesson.
 *
 * The second key, `stopKey`, is a list only this slot's `stop()` pushes to (see `worker.ts`).
 */
// #region brpop
export async function takeNextJob(connection: Redis, stopKey: string): Promise<Taken> {
  const reply = await connection.brpop(QUEUE, stopKey, 0);
  // The reply names the list the element came from, with the namespace in front.
  if (reply === null || reply[0] === `${connection.options.keyPrefix ?? ""}${stopKey}`) {
    return { kind: "stop" };
  }
  return { kind: "job", entry: reply[1] };
}
// #endregion brpop

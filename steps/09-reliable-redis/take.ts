/**
 * Taking a job: `BLMOVE` from the queue into this process's processing list — reliable fetch.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { QUEUE } from "./keys.ts";

/**
 * Waits, without polling, until there is a job, and moves it — in one atomic step on the
 * server — from the right end of the queue to the left end of `processingList`, returning it.
 *
 * Step 04's `BRPOP` removed the job: from then on its only copy was in the worker's memory,
 * and a worker killed there took it along. `BLMOVE` (Redis 6.2; `BRPOPLPUSH` before) hands
 * the job over *and* keeps it, in a list named after this worker process, until the worker
 * acknowledges it (`acknowledge.ts`). The job is never nowhere: in the queue, in a processing
 * list, due later, dead, or finished. If the process dies, its list outlives it, and the
 * reaper (`reaper.ts`) sends what is in it back through the retry path.
 *
 * Everything else about BRPOP stays: the server parks the connection while the queue is
 * empty (timeout 0: for as long as it takes), an idle worker sends nothing, two workers never
 * get the same job, and a job is picked up the moment it is pushed.
 *
 * What `BLMOVE` lost is BRPOP's second key: it watches one list, so step 04's stop signal (a
 * list of the slot's own, watched beside the queue) cannot wake it. It need not: closing the
 * blocked connection is now safe (see `worker.ts`, stop), which it never was with BRPOP; the
 * call then rejects, and the slot, seeing it is stopping, ends.
 */
// #region blmove
export async function takeNextJob(connection: Redis, processingList: string): Promise<string> {
  const entry = await connection.blmove(QUEUE, processingList, "RIGHT", "LEFT", 0);
  if (entry === null) throw new Error("BLMOVE with no timeout returned nothing.");
  return entry;
}
// #endregion blmove

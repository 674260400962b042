/**
 * Batches: a group of jobs, sealed, and callbacks enqueued exactly once when
 * every job of it has its final outcome.
 *
 * The whole design is one rule: **the batch's row changes in the
 * transaction that changes one of its jobs**. Adding jobs counts them in the
 * transaction that inserts them; a job's final outcome moves the counts in
 * the transaction that records it; and the finish that leaves a sealed batch
 * with nothing pending marks it complete and enqueues its callbacks, in that
 * same transaction, by an UPDATE that only one transaction can win. Nothing
 * is decided after a commit, so nothing can be lost between a commit and a
 * check — the bug of every batch built on "after the job, look whether the
 * others are done".
 *
 * @module
 */
import { InputError } from "../../lib/input-error.ts";
import { checkJobArguments } from "../../lib/jobs/argument-schema.ts";
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import { JobArgumentsError } from "../../lib/jobs/errors.ts";
import type { Sql } from "../../lib/postgres/database.ts";
import type { BatchCallbackArguments, BatchReport, NewBatch, NewJob } from "../../lib/step.ts";
import { type ClaimedJob, type Disposition, finishClaimedJob } from "./claims.ts";
import { insertJobs } from "./enqueue.ts";

/** A batch id that does not exist (or is not a number at all). Nothing was stored. */
export class UnknownBatchError extends InputError {
  override name = "UnknownBatchError";
  constructor(readonly batchId: string) {
    super(
      `There is no batch ${JSON.stringify(batchId)} (see npm run step 14 -- batches). Nothing was stored.`,
    );
  }
}

/** A batch that was sealed: it takes no more jobs, and is not sealed twice. Nothing was stored. */
export class BatchSealedError extends InputError {
  override name = "BatchSealedError";
  constructor(
    readonly batchId: string,
    what: string,
  ) {
    super(
      `Batch ${batchId} is sealed: ${what}. Add every job before sealing, or put the new ones in a batch of their own. Nothing was stored.`,
    );
  }
}

/** A callback that no worker could run, or that cannot take a callback's arguments. No batch was created. */
export class BatchCallbackError extends InputError {
  override name = "BatchCallbackError";
}

/** The callbacks a batch has, by the column that holds each. */
const CALLBACKS = ["onFinish", "onSuccess", "onDead"] as const;

/**
 * Creates an open batch and returns its id. Each callback must be a job of
 * `batch.registry` (the workshop's jobs unless told) that takes a callback's
 * arguments: a batch whose callback no worker would run would be found out
 * only when its last job finished — maybe days later, with nobody watching.
 */
export async function createBatch(sql: Sql, batch: NewBatch = {}): Promise<string> {
  const registry = batch.registry ?? workshopJobs();
  for (const callback of CALLBACKS) {
    const name = batch[callback];
    if (name === undefined) continue;
    if (!registry.has(name)) {
      throw new BatchCallbackError(
        `${callback} ${JSON.stringify(name)} is not a registered job (known: ${registry.names().join(", ")}): a callback is a job, run by a worker that knows it. No batch was created.`,
      );
    }
    const example: BatchCallbackArguments = {
      batchId: "1",
      event: "finish",
      total: 0,
      succeeded: 0,
      dead: 0,
    };
    try {
      checkJobArguments(registry.lookup(name), example);
    } catch (error) {
      if (!(error instanceof JobArgumentsError)) throw error;
      throw new BatchCallbackError(
        `${callback} ${name} does not take a callback's arguments, e.g. ${JSON.stringify(example)} (${error.problems.join("; ")}). No batch was created.`,
      );
    }
  }
  const [row] = await sql.query<{ id: string }>(
    "INSERT INTO batches (on_finish, on_success, on_dead) VALUES ($1, $2, $3) RETURNING id",
    [batch.onFinish ?? null, batch.onSuccess ?? null, batch.onDead ?? null],
  );
  if (!row) throw new Error("INSERT … RETURNING returned no row.");
  return row.id;
}

/**
 * Adds jobs to the open batch `batchId` and returns their ids. Call it in a
 * transaction (yours if you like, as `insertJobs`): the count and the jobs
 * are stored together or not at all.
 *
 * The count comes first, and it is guarded: `WHERE sealed_at IS NULL`. The
 * UPDATE locks the batch's row until this transaction ends, so a seal that
 * comes at the same moment waits for it — or, if the seal was first, this
 * UPDATE finds the row sealed (PostgreSQL checks the WHERE again on the row
 * as the seal left it) and nothing is added. A job of the batch may add more
 * while it runs, until the seal; after it, even a running job of the batch
 * is refused (the lesson says what it would take to allow that).
 */
// #region add
export async function addJobsToBatch(
  tx: Sql,
  batchId: string,
  jobs: readonly NewJob[],
): Promise<string[]> {
  checkBatchId(batchId);
  const counted = await tx.query(
    `UPDATE batches SET total = total + $2, pending = pending + $2
     WHERE id = $1 AND sealed_at IS NULL
     RETURNING id`,
    [batchId, jobs.length],
  );
  if (counted.length === 0) {
    await refuse(tx, batchId, `job ${jobs.map((job) => job.name).join(", ")} cannot be added`);
  }
  return insertJobs(tx, jobs, batchId);
}
// #endregion add

/**
 * Seals the batch: no job can be added from now on. A batch with nothing
 * pending — sealed empty, or whose jobs are all done already — completes at
 * once, in this transaction.
 */
export async function sealBatch(tx: Sql, batchId: string): Promise<void> {
  checkBatchId(batchId);
  const sealed = await tx.query(
    "UPDATE batches SET sealed_at = now() WHERE id = $1 AND sealed_at IS NULL RETURNING id",
    [batchId],
  );
  if (sealed.length === 0) await refuse(tx, batchId, "it cannot be sealed again");
  await completeIfDone(tx, batchId);
}

/**
 * Records a claimed job's outcome, as step 08 does (`finishClaimedJob`: only
 * if the claim is still `processId`'s), and — in the same transaction, which
 * `tx` must be — counts a final one into the job's batch. The job runner
 * calls it for jobs of a batch, and recovery for every job it recovers.
 */
// #region finish
export async function finishJobOfBatch(
  tx: Sql,
  job: Pick<ClaimedJob, "id" | "batchId">,
  processId: string,
  disposition: Disposition,
): ReturnType<typeof finishClaimedJob> {
  const finish = await finishClaimedJob(tx, job, processId, disposition);
  if (finish.stillOurs && job.batchId !== null && disposition.kind !== "retry") {
    await countFinalOutcome(tx, job.batchId, disposition.kind);
  }
  return finish;
}
// #endregion finish

/**
 * Counts a job's final outcome into its batch, in the transaction that
 * records that outcome (see {@link finishJobOfBatch}).
 * Only the final one: an attempt that failed and will be retried changes
 * nothing here, so a job that fails twice and then succeeds counts once, as
 * succeeded. The caller counts only an outcome it actually recorded — its
 * claim was still its own — so a job recovered from a dead worker, or
 * finished late by a worker taken for dead, is never counted twice.
 */
// #region count
export async function countFinalOutcome(
  tx: Sql,
  batchId: string,
  outcome: "finished" | "dead",
): Promise<void> {
  const [counts] = await tx.query<{ done: boolean }>(
    `UPDATE batches
     SET pending = pending - 1,
         succeeded = succeeded + $2,
         dead = dead + $3
     WHERE id = $1
     RETURNING sealed_at IS NOT NULL AND pending = 0 AS done`,
    [batchId, outcome === "finished" ? 1 : 0, outcome === "dead" ? 1 : 0],
  );
  if (outcome === "dead") await fireFirstDead(tx, batchId);
  // The row is locked by the UPDATE above until this transaction ends, so
  // `done` is the truth: when it is false, the guarded update below would
  // find nothing to do, and the round trip is saved.
  if (counts?.done) await completeIfDone(tx, batchId);
}
// #endregion count

/**
 * The guard. Whichever transaction leaves a sealed batch with nothing
 * pending gets here with the row locked, and the first to set completed_at
 * enqueues the callbacks; anyone after finds completed_at set and matches
 * nothing. The callback jobs are inserted in this same transaction: they
 * exist if and only if the batch is complete.
 */
// #region complete
async function completeIfDone(tx: Sql, batchId: string): Promise<void> {
  const [batch] = await tx.query<BatchRow>(
    `UPDATE batches SET completed_at = now()
     WHERE id = $1 AND sealed_at IS NOT NULL AND pending = 0 AND completed_at IS NULL
     RETURNING id, total, succeeded, dead, on_finish, on_success`,
    [batchId],
  );
  if (!batch) return;
  const callbacks: NewJob[] = [];
  if (batch.on_finish !== null) {
    callbacks.push({ name: batch.on_finish, args: callbackArguments(batch, "finish") });
  }
  if (batch.on_success !== null && batch.dead === 0) {
    callbacks.push({ name: batch.on_success, args: callbackArguments(batch, "success") });
  }
  await insertJobs(tx, callbacks);
}
// #endregion complete

/** onDead, once: for the first job of the batch to reach the dead queue. */
async function fireFirstDead(tx: Sql, batchId: string): Promise<void> {
  const [batch] = await tx.query<BatchCounts & { on_dead: string | null }>(
    `UPDATE batches SET first_dead_at = now()
     WHERE id = $1 AND first_dead_at IS NULL
     RETURNING id, total, succeeded, dead, on_dead`,
    [batchId],
  );
  if (batch?.on_dead) {
    await insertJobs(tx, [{ name: batch.on_dead, args: callbackArguments(batch, "dead") }]);
  }
}

/**
 * Jobs put back from the dead queue by a person (`retry`): each is pending
 * again in its batch, if the batch has not completed — it waits for the
 * job's new outcome. A batch that completed has called back with its counts,
 * and that cannot be undone: its job is taken out of it and runs on its own.
 * (GoodJob's #1239 was a retried job counted a second time.)
 */
export async function reopenRetriedJobs(tx: Sql, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  await tx.query(
    `WITH retried AS (
       SELECT batch_id, count(*)::int AS jobs FROM jobs
       WHERE id = ANY($1::bigint[]) AND batch_id IS NOT NULL
       GROUP BY batch_id
     ), reopened AS (
       UPDATE batches SET dead = dead - retried.jobs, pending = pending + retried.jobs
       FROM retried
       WHERE batches.id = retried.batch_id AND batches.completed_at IS NULL
       RETURNING batches.id
     )
     UPDATE jobs SET batch_id = NULL
     WHERE id = ANY($1::bigint[]) AND batch_id IS NOT NULL
       AND batch_id NOT IN (SELECT id FROM reopened)`,
    [jobIds],
  );
}

/** Every batch, oldest first, with the callbacks it has fired. */
export async function listBatches(sql: Sql): Promise<BatchReport[]> {
  const rows = await sql.query<
    BatchCounts & {
      pending: number;
      sealed: boolean;
      completed_at: Date | null;
      fired: string[];
    }
  >(
    `SELECT id, total, pending, succeeded, dead, sealed_at IS NOT NULL AS sealed, completed_at,
            array_remove(ARRAY[
              CASE WHEN first_dead_at IS NOT NULL AND on_dead IS NOT NULL THEN 'onDead' END,
              CASE WHEN completed_at IS NOT NULL AND on_finish IS NOT NULL THEN 'onFinish' END,
              CASE WHEN completed_at IS NOT NULL AND on_success IS NOT NULL AND dead = 0
                   THEN 'onSuccess' END
            ], NULL) AS fired
     FROM batches ORDER BY id`,
  );
  return rows.map((row) => ({
    id: row.id,
    total: row.total,
    pending: row.pending,
    succeeded: row.succeeded,
    dead: row.dead,
    sealed: row.sealed,
    completedAt: row.completed_at,
    callbacksFired: row.fired,
  }));
}

/** A batch's id and the counts its callbacks are given. */
interface BatchCounts {
  readonly id: string;
  readonly total: number;
  readonly succeeded: number;
  readonly dead: number;
}

/** What the completing UPDATE returns: the counts, and the callbacks to enqueue. */
interface BatchRow extends BatchCounts {
  readonly on_finish: string | null;
  readonly on_success: string | null;
}

function callbackArguments(
  batch: BatchCounts,
  event: BatchCallbackArguments["event"],
): BatchCallbackArguments {
  return {
    batchId: batch.id,
    event,
    total: batch.total,
    succeeded: batch.succeeded,
    dead: batch.dead,
  };
}

/** Batch ids are whole numbers; anything else is no batch, said before PostgreSQL says it less clearly. */
function checkBatchId(batchId: string): void {
  if (!/^\d{1,18}$/.test(batchId)) throw new UnknownBatchError(batchId);
}

/** Throws why the guarded UPDATE matched nothing: no such batch, or it is sealed. */
async function refuse(tx: Sql, batchId: string, what: string): Promise<never> {
  const [batch] = await tx.query("SELECT 1 FROM batches WHERE id = $1", [batchId]);
  throw batch ? new BatchSealedError(batchId, what) : new UnknownBatchError(batchId);
}

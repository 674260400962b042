/**
 * Step 10 has no foreign key from a claim to its process (schema.sql): the
 * claim locks its claimer's row itself, once (claims.ts). Held here where it
 * matters: recovery deleting the rows of processes while they claim. No
 * claim may be left pointing at a process row that is gone — recovery looks
 * for a dead process's jobs by its row, so such a claim's job would be lost
 * for good.
 */
import { setTimeout } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { StepInstance } from "../../lib/step.ts";
import { openForTest } from "../../test/support/open.ts";
import { claimReadyJobs } from "./claims.ts";
import { step } from "./index.ts";
import { registerProcess } from "./processes.ts";
import { pruneDeadProcesses } from "./recovery.ts";

const JOBS = 3_000;
const CLAIMERS = 8;
/** How many times each claimer registers again after its row was pruned. */
const LIVES = 5;
const POLICY = { maxAttemptsOf: () => 5, backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 } };

function sql(instance: StepInstance) {
  if (!instance.database) throw new Error("no database");
  return instance.database;
}

describe("step 10 — no foreign key from a claim to its process", () => {
  it("claims racing the pruning of their claimers leave no claim without its process, and lose no job", async () => {
    const instance = await openForTest(step, "claimerraces");
    const database = sql(instance);
    await instance.enqueueMany(Array.from({ length: JOBS }, () => ({ name: "Noop" })));

    // Each claimer registers a row that goes stale after 50 ms, as a
    // process that stopped beating does, and claims three jobs at a time
    // until its claim is refused (its row was pruned: it registers again)
    // or finds nothing.
    let claimsRefused = 0;
    let pruning = true;
    const claimer = async (n: number) => {
      for (let life = 0; life < LIVES; life++) {
        const id = await registerProcess(database, {
          kind: "Worker",
          name: `claimer-${n}-${life}`,
          aliveThresholdMs: 50,
        });
        try {
          // A pause between claims, as a worker running its jobs has: the
          // row is free then, for a pruner to take.
          while ((await claimReadyJobs(database, id, ["default"], 3)).length > 0) {
            await setTimeout(Math.random() * 4);
          }
          return;
        } catch (error) {
          if ((error as { code?: string }).code !== "23502") throw error;
          claimsRefused++;
        }
      }
    };
    const pruner = async () => {
      while (pruning) {
        await pruneDeadProcesses(database, { policy: POLICY });
        await setTimeout(Math.random() * 10);
      }
    };
    const pruners = [pruner(), pruner(), pruner()];
    await Promise.all(Array.from({ length: CLAIMERS }, (_, n) => claimer(n)));
    pruning = false;
    await Promise.all(pruners);
    await pruneDeadProcesses(database, { policy: POLICY });

    // The race ran: some claims met a pruned claimer.
    expect(claimsRefused).toBeGreaterThan(0);
    const [orphans] = await database.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM claimed_executions claimed
       WHERE NOT EXISTS (SELECT FROM processes WHERE processes.id = claimed.process_id)`,
    );
    expect(orphans?.count, "claims whose process row is gone").toBe(0);
    // Every claimer's row was pruned, its claims sent back as retries: each
    // job is ready (never claimed) or waiting for its retry.
    const counts = await instance.counts();
    expect(counts).toMatchObject({ claimed: 0, failed: 0 });
    const { ready = 0, scheduled = 0 } = counts;
    expect(ready + scheduled).toBe(JOBS);
    expect(scheduled).toBeGreaterThan(0);
  }, 60_000);
});

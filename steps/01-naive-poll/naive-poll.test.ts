/**
 * Step 01's own tests: what the naive poll does, and what it still gets wrong.
 */
import { describe, expect, it } from "vitest";
import { openForTest } from "../../test/support/open.ts";
import { eventually, nextEvent } from "../../test/support/waiting.ts";
import { step } from "./index.ts";
import { POLL_SQL } from "./poll.ts";

describe("step 01 — naive poll", () => {
  it("the poll walks past every finished job to find a waiting one", async () => {
    const instance = await openForTest(step, "plan");
    const database = instance.database;
    if (!database) throw new Error("no database");
    await instance.fillHistory(5_000);
    await instance.enqueue("Noop", {});
    const plan = (
      await database.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, COSTS OFF) ${POLL_SQL}`)
    )
      .map((row) => row["QUERY PLAN"])
      .join("\n");
    const skipped = /Rows Removed by Filter: (\d+)/.exec(plan)?.[1];
    expect(
      skipped,
      `the poll's plan removes no row by a filter — an index took it straight to the waiting job:\n${plan}`,
    ).toBeDefined();
    expect(Number(skipped)).toBeGreaterThanOrEqual(5_000);
  });

  it("an idle worker keeps querying: every poll interval, a statement", async () => {
    const instance = await openForTest(step, "idle");
    const before = instance.statementsSent();
    const worker = instance.startWorker({ pollIntervalMs: 10 });
    await eventually(
      () => instance.statementsSent() - before >= 5,
      "five polls with nothing to do",
    );
    await worker.stop();
    expect(await instance.counts()).toEqual({ waiting: 0, finished: 0, failed: 0 });
  });

  it("a row whose arguments were damaged in the database is recorded as failed, and the worker goes on", async () => {
    const instance = await openForTest(step, "corrupt");
    const database = instance.database;
    if (!database) throw new Error("no database");
    const damaged = await instance.enqueue("Noop", {});
    const healthy = await instance.enqueue("Noop", {});
    await database.query("UPDATE jobs SET arguments = '{\"unterminated' WHERE id = $1", [damaged]);
    const failed = nextEvent(instance.events, "failed", (e) => e.jobId === damaged);
    const finished = nextEvent(instance.events, "finished", (e) => e.jobId === healthy);
    const worker = instance.startWorker({ pollIntervalMs: 10 });
    expect((await failed).error).toMatch(
      /CorruptArgumentsError: Job \d+ has stored arguments that are not valid JSON/,
    );
    await finished;
    await worker.stop();
    const [row] = await database.query<{ error: string }>("SELECT error FROM jobs WHERE id = $1", [
      damaged,
    ]);
    expect(row?.error).toMatch(/CorruptArgumentsError/);
  });
});

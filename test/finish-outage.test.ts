/**
 * Steps 05–08 and 10–14 finish a job in a short transaction of their own,
 * after the job ran (step 10: with the other outcomes of its batch). Each
 * has its own copy of that code, so each is held to the same rule here: a
 * job that ends while the database is away has its outcome recorded once
 * the database is back — however long it was away — and is never left
 * claimed by a worker that goes on living.
 *
 * The outage is a cut TCP proxy in front of the shared server (see
 * cuttable-proxy.ts), so the steps run side by side in one outage's time.
 * Step 08's database-outage.test.ts (copied into 10 and 12) stops a real
 * server under load, for a shorter time: this test is the one that holds
 * every step to an outage longer than the old retry budget.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "vitest";
import { stepFolder } from "../lib/step.ts";
import { loadSteps } from "../lib/workshop/step-directory.ts";
import { testDatabaseUrl } from "./services.ts";
import { startCuttableProxy } from "./support/cuttable-proxy.ts";
import { nextEvent } from "./support/waiting.ts";
import { waitingJob } from "./support/waiting-job.ts";

/**
 * Longer than finishing used to be retried (ten times, a second apart),
 * after which the claim stayed behind for as long as the worker lived. The
 * outage is what the test is about, so its length is a fixed wait.
 */
const OUTAGE_MS = 12_000;
/** The capped backoff between finish attempts (5 s), and a loaded machine's slack. */
const RECORDED_WITHIN_MS = 15_000;

const claimingSteps = (await loadSteps()).filter((step) =>
  ["05", "06", "07", "08", "10", "11", "12", "13", "14"].includes(step.id),
);

describe.concurrent("a finished job's outcome outlives a database outage", () => {
  // `it.for` hands each test its own context: with tests running at once, the
  // global `onTestFinished` cannot tell which test registers a cleanup, and
  // one step's test could drop another's schema when it ends.
  it.for(claimingSteps.map((step) => ({ folder: stepFolder(step), step })))(
    "step $folder: a job that ends while the database is away is recorded once it is back",
    { timeout: 60_000 },
    async ({ step }, { expect, onTestFinished }) => {
      const proxy = await startCuttableProxy(testDatabaseUrl());
      onTestFinished(() => proxy.close());
      const namespace = `t${step.id}_outage_${randomBytes(3).toString("hex")}`;
      // The worker's side reaches the database through the proxy; the test
      // looks at the rows directly, outage or not.
      const instance = await step.open({ databaseUrl: proxy.url, namespace });
      const watcher = await step.open({ databaseUrl: testDatabaseUrl(), namespace });
      onTestFinished(async () => {
        await instance.close();
        await watcher.database?.dropSchema();
        await watcher.close();
      });
      const { registry, release } = waitingJob();
      const id = await instance.enqueue("Slow", {});
      const started = nextEvent(instance.events, "started", (e) => e.jobId === id);
      const worker = instance.startWorker({ registry });
      await started;

      await proxy.cut();
      const finished = nextEvent(
        instance.events,
        "finished",
        (e) => e.jobId === id,
        OUTAGE_MS + RECORDED_WITHIN_MS,
      );
      release.open(); // the job ends now, with the database away
      await sleep(OUTAGE_MS);
      expect(await watcher.counts()).toMatchObject({ claimed: 1, finished: 0 });
      await proxy.restore();

      await finished;
      expect(await watcher.counts()).toMatchObject({ ready: 0, claimed: 0, finished: 1 });
      await worker.stop();
      expect((await watcher.processes?.()) ?? []).toEqual([]);
    },
  );
});

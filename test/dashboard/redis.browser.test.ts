/**
 * The dashboard in a real browser, on the Redis steps: the exact counts of a
 * seeded queue on 04, and on 09 its dead queue, a dead job retried from the
 * page going back to the queue and then running.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { expectCount, openPage, screenshot, showDashboard, WAIT } from "../support/browser.ts";
import { steps } from "../support/contract.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";
import { nthEvent } from "../support/waiting.ts";

function stepOf(id: string) {
  const step = steps.find((candidate) => candidate.id === id);
  if (!step) throw new Error(`Step ${id} is missing.`);
  return step;
}

describe("the dashboard on the Redis steps", () => {
  it("shows the exact counts of step 04's seeded queue", async () => {
    const page = await openPage(); // first: without a browser, nothing is seeded
    const instance = await openForTest(stepOf("04"), "dashboard");
    await instance.enqueueMany([
      { name: "Record", args: {} },
      { name: "Record", args: {} },
    ]);
    await instance.fillHistory(5);
    await showDashboard(page, instance);
    await expectCount(page, "queued", 2);
    await expectCount(page, "runningOrLost", 0);
    await expectCount(page, "finished", 5);
    await expectCount(page, "failed", 0);
    await expect.poll(() => page.locator("#queues tbody tr").textContent(), WAIT).toContain("2");
    await screenshot(page, "04-seeded");
  }, 60_000);

  it("shows step 09's dead queue; a dead job retried on the page goes back to the queue, then runs", async () => {
    const page = await openPage(); // first: without a browser, nothing is seeded
    const instance = await openForTest(stepOf("09"), "dashboard");
    const { registry, received } = recordingJobs();
    const [deadId] = await instance.enqueueMany([{ name: "Explode", args: { message: "boom" } }]);
    const failed = nthEvent(instance.events, "failed", () => true, 1);
    const first = instance.startWorker({ registry });
    await failed;
    await first.stop();
    await instance.enqueueMany([
      { name: "Record", args: { n: 1 } },
      { name: "Record", args: { n: 2 } },
      { name: "Record", args: {}, runAt: new Date(Date.now() + 3_600_000) },
    ]);
    await instance.fillHistory(4);

    await showDashboard(page, instance);
    await expectCount(page, "ready", 2);
    await expectCount(page, "scheduled", 1);
    await expectCount(page, "claimed", 0);
    await expectCount(page, "finished", 4);
    await expectCount(page, "failed", 1);
    const deadRow = page.locator(`#dead tr[data-job="${deadId}"]`);
    await expect.poll(() => deadRow.textContent(), WAIT).toContain("Error: boom");
    await screenshot(page, "09-seeded");

    await deadRow.locator("button", { hasText: "retry" }).click();
    await expect
      .poll(() => page.locator(".message").textContent(), WAIT)
      .toBe(`Put back to ready: ${deadId}.`);
    await expectCount(page, "ready", 3);
    await expectCount(page, "failed", 0);

    // It runs again (and, being Explode, dies again), the two Records finish.
    const worker = instance.startWorker({ registry });
    onTestFinished(() => worker.stop());
    await expectCount(page, "ready", 0);
    await expectCount(page, "finished", 6);
    await expectCount(page, "failed", 1);
    expect(received.map((run) => JSON.stringify(run.args)).sort()).toEqual(['{"n":1}', '{"n":2}']);
  }, 60_000);
});

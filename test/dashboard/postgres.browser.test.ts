/**
 * The dashboard in a real browser, on a PostgreSQL step (08): the exact
 * counts of a seeded queue, a dead job retried from the page that then runs,
 * a dead job discarded, and a worker killed with SIGKILL turning dead on the
 * page and its jobs recovered.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { defineJob } from "../../lib/jobs/job.ts";
import { JobRegistry } from "../../lib/jobs/registry.ts";
import { loadSteps } from "../../lib/workshop/step-directory.ts";
import { expectCount, openPage, screenshot, showDashboard, WAIT } from "../support/browser.ts";
import { openForTest } from "../support/open.ts";
import { recordingJobs } from "../support/recording-jobs.ts";
import { nthEvent } from "../support/waiting.ts";
import { spawnWorker } from "../support/worker-process.ts";

const step08 = (await loadSteps()).find((step) => step.id === "08");
if (!step08) throw new Error("Step 08 is missing.");
const step = step08;

describe("the dashboard on step 08 (PostgreSQL)", () => {
  it("shows the exact counts of a seeded queue; a dead job retried on the page goes to ready, then runs; one discarded is gone", async () => {
    const page = await openPage(); // first: without a browser, nothing is seeded
    const instance = await openForTest(step, "dashboard");
    // A job that fails until the cause is "fixed": it dies on its first
    // attempt, and succeeds when retried after the fix.
    let fixed = false;
    const registry = new JobRegistry([
      defineJob<{ order: number }>({
        name: "ChargeCard",
        description: "fails until fixed",
        exampleArguments: { order: 1 },
        maxAttempts: 1,
        perform({ order }) {
          if (!fixed) throw new Error(`card of order ${order} declined`);
        },
      }),
      defineJob({ name: "Noop", description: "does nothing", exampleArguments: {}, perform() {} }),
    ]);
    const deadIds = await instance.enqueueMany([
      { name: "ChargeCard", args: { order: 1 } },
      { name: "ChargeCard", args: { order: 2 } },
    ]);
    const failed = nthEvent(instance.events, "failed", () => true, 2);
    const first = instance.startWorker({ registry });
    await failed;
    await first.stop();
    await instance.enqueueMany([
      { name: "Noop", args: {} },
      { name: "Noop", args: {} },
      { name: "Noop", args: {} },
    ]);
    const inAnHour = new Date(Date.now() + 3_600_000);
    await instance.enqueueMany([
      { name: "Noop", args: {}, runAt: inAnHour },
      { name: "Noop", args: {}, runAt: inAnHour },
    ]);
    await instance.fillHistory(7);

    await showDashboard(page, instance);
    await expectCount(page, "ready", 3);
    await expectCount(page, "scheduled", 2);
    await expectCount(page, "claimed", 0);
    await expectCount(page, "finished", 7);
    await expectCount(page, "failed", 2);
    await expect.poll(() => page.locator("#dead tbody tr").count(), WAIT).toBe(2);
    await expect.poll(() => page.locator("#scheduled tbody tr").count(), WAIT).toBe(2);
    await expect
      .poll(() => page.locator(`#dead tr[data-job="${deadIds[0]}"]`).textContent(), WAIT)
      .toContain("card of order 1 declined");
    await screenshot(page, "08-seeded");

    // Retry the first dead job: with no worker running, it waits in ready.
    await page.locator(`#dead tr[data-job="${deadIds[0]}"] button`, { hasText: "retry" }).click();
    await expect
      .poll(() => page.locator(".message").textContent(), WAIT)
      .toBe(`Put back to ready: ${deadIds[0]}.`);
    await expectCount(page, "ready", 4);
    await expectCount(page, "failed", 1);
    // Discard the other: gone for good.
    await page.locator(`#dead tr[data-job="${deadIds[1]}"] button`, { hasText: "discard" }).click();
    await expect
      .poll(() => page.locator(".message").textContent(), WAIT)
      .toBe(`Discarded for good: ${deadIds[1]}.`);
    await expectCount(page, "failed", 0);
    await expect
      .poll(() => page.locator("#dead").textContent(), WAIT)
      .toContain("The dead queue is empty.");

    // The cause fixed, a worker runs the retried job and the three ready ones.
    fixed = true;
    const worker = instance.startWorker({ registry });
    onTestFinished(() => worker.stop());
    await expectCount(page, "ready", 0);
    await expectCount(page, "finished", 11);
    await screenshot(page, "08-after-retry");
  }, 60_000);

  it("shows a worker killed with SIGKILL as dead, then its jobs recovered by the next worker", async () => {
    const page = await openPage(); // first: without a browser, nothing is seeded
    const instance = await openForTest(step, "dashboard_kill");
    const quick = ["--heartbeat-interval", "100", "--alive-threshold", "1000"];
    const victim = spawnWorker(instance, ["--concurrency", "2", ...quick]);
    const started = new Promise<void>((resolve) => {
      let seen = 0;
      victim.child.stdout?.on("data", (chunk: Buffer) => {
        seen += (chunk.toString().match(/▶ job/g) ?? []).length;
        if (seen >= 2) resolve();
      });
    });
    await instance.enqueueMany([
      { name: "Sleep", args: { ms: 600_000 } },
      { name: "Sleep", args: { ms: 600_000 } },
    ]);
    await started;

    await showDashboard(page, instance);
    const victimRow = page.locator(`#processes tr[data-process]`, {
      hasText: String(victim.child.pid),
    });
    await expect.poll(() => victimRow.getAttribute("class"), WAIT).toBe("alive");
    await expectCount(page, "claimed", 2);

    victim.child.kill("SIGKILL");
    await victim.exited;
    await expect.poll(() => victimRow.getAttribute("class"), WAIT).toBe("dead");
    await expect.poll(() => victimRow.locator(".status").textContent(), WAIT).toContain("dead");
    await expectCount(page, "claimed", 2);
    await screenshot(page, "08-worker-killed");

    // The next worker prunes the dead one at its start and recovers its
    // jobs; its Sleep returns at once, so they finish in no time.
    const rescuer = instance.startWorker({
      registry: recordingJobs().registry,
      heartbeatIntervalMs: 100,
      aliveThresholdMs: 1000,
    });
    onTestFinished(() => rescuer.stop());
    await expect.poll(() => victimRow.count(), WAIT).toBe(0);
    await expectCount(page, "finished", 2);
    await expectCount(page, "claimed", 0);
    await expect.poll(() => page.locator("#processes tr.alive").count(), WAIT).toBe(1);
    await screenshot(page, "08-recovered");
  }, 90_000);
});

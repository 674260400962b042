/**
 * For scheduler-crash.test.ts: a scheduler in a process of its own, so the
 * test can `kill -9` it. It ticks once, at the time it is given, and stops
 * in the middle — the tick's key written, its transaction open, its job not
 * yet enqueued — says `holding <schedule> <tick>`, and waits to be killed.
 *
 *     node --import tsx mid-tick-scheduler.fixture.ts <namespace> <tick ISO> <schedule JSON>
 *
 * @module
 */
import { workshopJobs } from "../../lib/jobs/catalog.ts";
import type { RecurringSchedule } from "../../lib/step.ts";
import { step } from "./index.ts";
import { TickingScheduler } from "./scheduler.ts";

const [namespace, tickIso, scheduleJson] = process.argv.slice(2);
if (namespace === undefined || tickIso === undefined || scheduleJson === undefined) {
  throw new Error("Usage: mid-tick-scheduler.fixture.ts <namespace> <tick ISO> <schedule JSON>");
}
const instance = await step.open({ databaseUrl: process.env.DATABASE_URL, namespace });
if (!instance.database) throw new Error("Step 13 is a Postgres step.");
const schedule = JSON.parse(scheduleJson) as RecurringSchedule;
const scheduler = new TickingScheduler(instance.database, [schedule], {
  registry: workshopJobs(),
  hooks: {
    async afterKeyWritten(name, tickAt) {
      console.log(`holding ${name} ${tickAt.toISOString()}`);
      await new Promise(() => {}); // until SIGKILL
    },
  },
});
await scheduler.tick(new Date(tickIso));

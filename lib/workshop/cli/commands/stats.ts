/**
 * `npm run step NN -- stats [--json]`: jobs per state, ready jobs per queue,
 * (06 on) the processes, (11) the jobs blocked per concurrency key, and (12)
 * the rate keys.
 *
 * @module
 */

import type {
  ConcurrencyKeyReport,
  QueueReport,
  RateLimitReport,
  StepInstance,
} from "../../../step.ts";
import { renderTable } from "../../format.ts";

export async function runStatsCommand(instance: StepInstance, json: boolean): Promise<void> {
  const counts = await instance.counts();
  const queues = await instance.queues();
  // Steps with heartbeats (06 on) also know their processes.
  const processes = instance.processes ? await instance.processes() : undefined;
  // Steps with concurrency limits (11) also know their keys.
  const concurrencyKeys = instance.concurrencyKeys ? await instance.concurrencyKeys() : undefined;
  // Steps with rate limits (12) also know their rate keys.
  const rateLimits = instance.rateLimits ? await instance.rateLimits() : undefined;
  if (json) {
    console.log(
      JSON.stringify({
        step: instance.step.id,
        namespace: instance.namespace,
        counts,
        queues,
        processes,
        concurrencyKeys,
        rateLimits,
      }),
    );
    return;
  }
  console.log(`Step ${instance.step.id} (${instance.namespace})`);
  for (const line of renderTable(["state", "jobs"], Object.entries(counts))) console.log(line);
  console.log("");
  printQueues(queues);
  if (concurrencyKeys !== undefined) {
    console.log("");
    printConcurrencyKeys(concurrencyKeys);
  }
  if (rateLimits !== undefined) {
    console.log("");
    printRateLimits(rateLimits);
  }
  if (processes === undefined) return;
  console.log("");
  if (processes.length === 0) {
    console.log("No processes registered.");
    return;
  }
  for (const line of renderTable(
    ["process", "kind", "name", "pid", "supervisor", "age", "last heartbeat", "status"],
    processes.map((p) => [
      p.id,
      p.kind,
      p.name,
      String(p.pid),
      p.supervisorId ?? "",
      seconds(p.ageMs),
      `${seconds(p.heartbeatAgeMs)} ago`,
      p.alive ? "alive" : `DEAD (silent > ${seconds(p.aliveThresholdMs)})`,
    ]),
  ))
    console.log(line);
}

/**
 * Ready jobs per queue, and how long the oldest has waited: a queue no
 * worker serves shows here as one whose oldest job keeps getting older.
 */
function printQueues(queues: readonly QueueReport[]): void {
  if (queues.length === 0) {
    console.log("No job is ready to run in any queue.");
    return;
  }
  const rows = queues.map((queue) => [
    queue.queue,
    String(queue.ready),
    queue.oldestReadyAgeMs === null ? "?" : age(queue.oldestReadyAgeMs),
  ]);
  for (const line of renderTable(["queue", "ready", "oldest has waited"], rows)) console.log(line);
}

/** The most keys printed; the rest are counted. JSON has them all. */
const KEYS_SHOWN = 20;

/**
 * Per concurrency key: its limit, the jobs holding a slot, and those blocked
 * waiting for one — the most blocked first. A key whose blocked jobs keep
 * getting older while its slots stay full is a hot key, or a stuck one.
 */
function printConcurrencyKeys(keys: readonly ConcurrencyKeyReport[]): void {
  if (keys.length === 0) {
    console.log("No job holds or waits for a concurrency slot.");
    return;
  }
  const rows = keys
    .slice(0, KEYS_SHOWN)
    .map((key) => [
      key.key,
      String(key.limit),
      String(key.admitted),
      String(key.blocked),
      key.oldestBlockedAgeMs === null ? "" : age(key.oldestBlockedAgeMs),
    ]);
  for (const line of renderTable(
    ["concurrency key", "limit", "holding a slot", "blocked", "oldest blocked has waited"],
    rows,
  ))
    console.log(line);
  if (keys.length > KEYS_SHOWN) {
    console.log(`… and ${keys.length - KEYS_SHOWN} more keys (--json lists them all).`);
  }
}

/**
 * Per rate key: its limit, the jobs waiting (ready, held back or about to
 * start), how much of the current period is used, and when the next may start.
 */
function printRateLimits(rateLimits: readonly RateLimitReport[]): void {
  if (rateLimits.length === 0) {
    console.log("No rate key has been used.");
    return;
  }
  const rows = rateLimits.map((rate) => [
    rate.key,
    `${rate.limit} per ${rate.periodMs} ms`,
    String(rate.waiting),
    `${rate.startedThisPeriod} of ${rate.limit}`,
    rate.nextStartInMs > 0 ? `in ${seconds(rate.nextStartInMs)}` : "now",
  ]);
  for (const line of renderTable(
    ["rate key", "limit", "waiting", "started this period", "next may start"],
    rows,
  ))
    console.log(line);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `5.5 s`, `28.8 min`, `3.2 h`, `2.1 d`: a job forgotten in a queue reads as long as it is. */
function age(ms: number): string {
  if (ms < 60_000) return seconds(ms);
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

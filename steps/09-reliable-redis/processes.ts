/**
 * The processes: a hash of who is registered, and a heartbeat key per process that expires.
 *
 * @module
 */
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { ProcessReport } from "../../lib/step.ts";
import { heartbeatKey, LAST_PROCESS_ID, PROCESSES, processingKey, QUEUE } from "./keys.ts";
import { LuaScript } from "./lua.ts";

/** What a process says about itself when it registers: a field of the `processes` hash, as JSON. */
export interface ProcessRegistration {
  readonly kind: "Worker" | "Supervisor";
  readonly name: string;
  readonly pid: number;
  readonly hostname: string;
  readonly supervisorId: string | null;
  readonly aliveThresholdMs: number;
  /** Milliseconds since the epoch, by the registering process's clock. */
  readonly registeredAt: number;
}

/** A registered process: its id, and what it said. */
export interface RegisteredProcess extends ProcessRegistration {
  readonly id: string;
}

/**
 * The heartbeat: the registration written back if it is missing, and the heartbeat key set to
 * expire after the alive threshold. `SET … PX` is the whole trick — nobody has to compare
 * times to know who is dead: the server deletes the key of a process that stopped beating
 * (Sidekiq's process keys work the same way, with a 60 s expiry).
 *
 * A script, for the registration: `HSETNX` writes it back only if it is gone, which happens
 * when this process was taken for dead and reaped (its heartbeat expired while it lived on).
 * It then counts as registered again under the same id, at once, in the same step — so a job
 * its slots take from now on lands in a processing list the reaper and the counts can see.
 * (Step 08 registers again under a new id, in several statements; with one id per processing
 * list, the same id is simpler.) Returns 1 when it had to register again.
 */
// #region heartbeat-script
const BEAT = new LuaScript(`
  local registeredAgain = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3])
  return registeredAgain
`);
// #endregion heartbeat-script

/** Registers a new process and gives it its first heartbeat; resolves with its id. */
export async function registerProcess(
  redis: Redis,
  registration: Omit<ProcessRegistration, "pid" | "hostname" | "registeredAt">,
): Promise<RegisteredProcess> {
  const id = String(await redis.incr(LAST_PROCESS_ID));
  const registered = {
    id,
    ...registration,
    pid: process.pid,
    hostname: hostname(),
    registeredAt: Date.now(),
  };
  await beat(redis, registered);
  return registered;
}

/** One heartbeat. Resolves `true` if the process had been reaped, and is registered again now. */
export async function beat(redis: Redis, process_: RegisteredProcess): Promise<boolean> {
  const { id, ...registration } = process_;
  const registeredAgain = await BEAT.run(
    redis,
    [PROCESSES, heartbeatKey(id)],
    [id, JSON.stringify(registration), process_.aliveThresholdMs, Date.now()],
  );
  return registeredAgain === 1;
}

/**
 * Leaving: every job still in this process's processing list goes back to the front of the
 * queue (`RPUSH`: the end BLMOVE takes next — they were taken first, they run first), and the
 * registration and heartbeat are deleted. One script: between "handed back" and "gone" no
 * reaper may see the process dead with jobs in its list and count an attempt for them. A job
 * handed back is not an attempt: the process stopped on purpose and says so. Returns the
 * entries it handed back.
 */
// #region leave
const LEAVE = new LuaScript(`
  local entries = redis.call('LRANGE', KEYS[1], 0, -1)
  for i = #entries, 1, -1 do redis.call('RPUSH', KEYS[2], entries[i]) end
  redis.call('DEL', KEYS[1], KEYS[4])
  redis.call('HDEL', KEYS[3], ARGV[1])
  return entries
`);
// #endregion leave

export async function leave(redis: Redis, processId: string): Promise<string[]> {
  const entries = await LEAVE.run(
    redis,
    [processingKey(processId), QUEUE, PROCESSES, heartbeatKey(processId)],
    [processId],
  );
  return entries as string[];
}

/** Every registered process, oldest first. */
export async function registeredProcesses(redis: Redis): Promise<RegisteredProcess[]> {
  const fields = await redis.hgetall(PROCESSES);
  return Object.entries(fields)
    .map(([id, json]) => ({ id, ...(JSON.parse(json) as ProcessRegistration) }))
    .sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * Every registered process and whether it is alive: whether its heartbeat key still exists.
 * The key's remaining time (`PTTL`) says how long ago the last beat was: the server's clock
 * judges, as the database's does in step 06, so processes on several machines agree.
 */
// #region alive
export async function listProcesses(redis: Redis): Promise<ProcessReport[]> {
  const processes = await registeredProcesses(redis);
  if (processes.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const process_ of processes) pipeline.pttl(heartbeatKey(process_.id));
  const replies = (await pipeline.exec()) ?? [];
  return processes.map((process_, index) => {
    const ttl = Number(replies[index]?.[1] ?? -2); // -2: the key is gone
    const alive = ttl > 0;
    return {
      id: process_.id,
      kind: process_.kind,
      name: process_.name,
      pid: process_.pid,
      hostname: process_.hostname,
      supervisorId: process_.supervisorId,
      ageMs: Date.now() - process_.registeredAt,
      // A key that expired says only that the last beat is older than the threshold.
      heartbeatAgeMs: alive ? process_.aliveThresholdMs - ttl : process_.aliveThresholdMs,
      aliveThresholdMs: process_.aliveThresholdMs,
      alive,
    };
  });
}
// #endregion alive

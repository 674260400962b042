/**
 * The reaper: finds processes whose heartbeat key has expired and sends the jobs left in
 * their processing lists back through the retry path — the interrupted attempt counts as one.
 *
 * @module
 */
import type { Redis } from "ioredis";
import type { JobRegistry } from "../../lib/jobs/registry.ts";
import type { RetryBackoff } from "../../lib/step.ts";
import { type Disposition, dispositionOf } from "./acknowledge.ts";
import { encodeDeadJob } from "./dead-jobs.ts";
import { DEAD, heartbeatKey, PROCESSES, processingKey, SCHEDULED } from "./keys.ts";
import { LuaScript } from "./lua.ts";
import { DamagedQueueEntryError, decodeJob } from "./payload.ts";
import { type RegisteredProcess, registeredProcesses } from "./processes.ts";

/** What the reaper needs to judge a dead process's jobs: the same retry policy as a failure. */
export interface ReapPolicy {
  /** Whose `maxAttempts` counts: the reaping process's registry. */
  readonly registry: JobRegistry;
  readonly backoff: RetryBackoff;
}

/** One dead process, reaped: who it was, and what became of each job the reaper moved. */
export interface ReapedProcess {
  readonly process: RegisteredProcess;
  readonly jobs: readonly ReapedJob[];
}

export interface ReapedJob {
  readonly id: string;
  readonly name: string;
  readonly to: "retry" | "dead";
}

/** What the reaper read in a dead process's list, and decided for each entry. */
export interface ReapPlan {
  readonly process: RegisteredProcess;
  readonly entries: readonly {
    readonly entry: string;
    readonly job: ReapedJob;
    readonly score: number;
    readonly member: string;
  }[];
}

/**
 * One script per dead process, so that reaping is safe without a lock:
 *
 * - it first checks, in the same step, that the heartbeat key is still missing (unless the
 *   caller knows the process is dead: a supervisor that saw it exit). A process that was only
 *   slow and beat again since the reaper looked is left alone;
 * - each job goes to the retry set or the dead queue only if `LREM` took it out of the list.
 *   Between the reaper's read and its script the job may have left: acknowledged by a process
 *   that was slow, not dead, or moved by another reaper (every worker runs one). Either way it
 *   is not this reaper's to move any more. A lock (`SET reaper-lock NX PX …`, as BullMQ's
 *   `stalled-check` key) would only save a second reaper its work — and a lock that expires
 *   under a slow reaper protects nothing; the check in the script is what makes the move exact;
 * - the registration is removed only if the list is then empty: a job that reached the list
 *   after the reaper read it (a BLMOVE served just before the process died) keeps the process
 *   registered, and the next round reaps it.
 *
 * ARGV: the process id, whether it is known dead, then four values per job: the entry as it
 * is in the list, `retry` or `dead`, the score, and the new member. Returns `{0}` if the
 * process beat again, else `{1, i, j, …}`: the numbers of the jobs it moved.
 */
// #region reap
const REAP = new LuaScript(`
  if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[2]) == 1 then return {0} end
  local moved = {1}
  for i = 3, #ARGV, 4 do
    if redis.call('LREM', KEYS[1], 1, ARGV[i]) == 1 then
      local target = KEYS[4]
      if ARGV[i + 1] == 'dead' then target = KEYS[5] end
      redis.call('ZADD', target, ARGV[i + 2], ARGV[i + 3])
      moved[#moved + 1] = (i - 3) / 4 + 1
    end
  end
  if redis.call('LLEN', KEYS[1]) == 0 then
    redis.call('HDEL', KEYS[3], ARGV[1])
    redis.call('DEL', KEYS[2])
  end
  return moved
`);
// #endregion reap

/**
 * Reaps every registered process whose heartbeat key is gone, but `self` (a process that
 * finds itself dead has just been slow: its next beat registers it again). Reading the
 * heartbeats is one pipeline, so a round costs two round trips while everyone is alive.
 */
export async function reapDeadProcesses(
  redis: Redis,
  policy: ReapPolicy,
  self: string,
): Promise<ReapedProcess[]> {
  const processes = (await registeredProcesses(redis)).filter((p) => p.id !== self);
  if (processes.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const process_ of processes) pipeline.exists(heartbeatKey(process_.id));
  const replies = (await pipeline.exec()) ?? [];
  const dead = processes.filter((_, index) => replies[index]?.[1] === 0);
  const reaped: ReapedProcess[] = [];
  for (const process_ of dead) {
    const result = await reapProcess(redis, process_, policy, false);
    if (result) reaped.push(result);
  }
  return reaped;
}

/**
 * Sends the jobs in `process_`'s processing list through the retry path and deregisters it.
 * `knownDead`: the caller saw it exit (a supervisor), so its heartbeat key, which may not have
 * expired yet, is not asked. Resolves `undefined` if it beat again meanwhile.
 */
export async function reapProcess(
  redis: Redis,
  process_: RegisteredProcess,
  policy: ReapPolicy,
  knownDead: boolean,
): Promise<ReapedProcess | undefined> {
  return applyReap(redis, await planReap(redis, process_, policy), knownDead);
}

/** Reads the dead process's list — short: at most its concurrency — and decides each job's way. */
export async function planReap(
  redis: Redis,
  process_: RegisteredProcess,
  policy: ReapPolicy,
): Promise<ReapPlan> {
  const entries = await redis.lrange(processingKey(process_.id), 0, -1);
  const error = `ProcessDiedError: process ${process_.id} (${process_.name}, pid ${process_.pid} on ${process_.hostname}) died while running this job`;
  return {
    process: process_,
    entries: entries.map((entry) => {
      const disposition = dispositionOfInterrupted(entry, error, policy);
      const { id, name } = idAndName(entry);
      return disposition.kind === "retry"
        ? {
            entry,
            job: { id, name, to: "retry" },
            score: disposition.at,
            member: disposition.entry,
          }
        : {
            entry,
            job: { id, name, to: "dead" },
            score: Date.now(),
            member: disposition.kind === "dead" ? disposition.record : "",
          };
    }),
  };
}

/** Runs the script for a plan; resolves `undefined` if the process beat again. */
export async function applyReap(
  redis: Redis,
  plan: ReapPlan,
  knownDead: boolean,
): Promise<ReapedProcess | undefined> {
  const { id } = plan.process;
  const args: (string | number)[] = [id, knownDead ? "1" : "0"];
  for (const { entry, job, score, member } of plan.entries) args.push(entry, job.to, score, member);
  const [reaped, ...moved] = (await REAP.run(
    redis,
    [processingKey(id), heartbeatKey(id), PROCESSES, SCHEDULED, DEAD],
    args,
  )) as number[];
  if (reaped !== 1) return undefined;
  const jobs = moved.flatMap((number) => plan.entries[number - 1]?.job ?? []);
  return { process: plan.process, jobs };
}

/** An interrupted attempt is a failed one, and not a retryable failure only if the entry is not a job. */
function dispositionOfInterrupted(entry: string, error: string, policy: ReapPolicy): Disposition {
  try {
    const job = decodeJob(entry);
    const outcome = { status: "failed", error, stack: null, retryable: true } as const;
    return dispositionOf(job, outcome, policy.registry, policy.backoff);
  } catch (problem) {
    if (!(problem instanceof DamagedQueueEntryError)) throw problem;
    return {
      kind: "dead",
      record: encodeDeadJob({
        ...{ id: null, name: null, arguments: entry, enqueuedAt: 0, attempts: 1 },
        ...{ error: `${problem.name}: ${problem.message}`, stack: null, failedAt: Date.now() },
      }),
    };
  }
}

function idAndName(entry: string): { id: string; name: string } {
  try {
    const { id, name } = decodeJob(entry);
    return { id, name };
  } catch {
    return { id: "(not a job)", name: "(not a job)" };
  }
}

/** "job 17 (Sleep) → retry, job 18 (Sleep) → dead queue", or "it held no job". */
export function describeReapedJobs(jobs: readonly ReapedJob[]): string {
  if (jobs.length === 0) return "it held no job";
  return jobs
    .map((job) => `job ${job.id} (${job.name}) → ${job.to === "retry" ? "retry" : "dead queue"}`)
    .join(", ");
}

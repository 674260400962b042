/**
 * The processes table: registering on start, deregistering on a clean exit,
 * and who is considered alive.
 *
 * @module
 */
import { hostname } from "node:os";
import type { Sql } from "../../lib/postgres/database.ts";
import type { ProcessReport } from "../../lib/step.ts";

/** What a process says about itself when it registers. */
export interface ProcessRegistration {
  readonly kind: "Worker" | "Supervisor";
  readonly name: string;
  readonly supervisorId?: string;
  readonly aliveThresholdMs: number;
}

/** Inserts this process's row and returns its id. Its first heartbeat is the insert itself. */
// #region register
export async function registerProcess(
  sql: Sql,
  registration: ProcessRegistration,
): Promise<string> {
  const [row] = await sql.query<{ id: string }>(
    // The supervisor's row may be gone: pruned while this worker started (it
    // registers again, and starts its next workers under its new id). The
    // link is then left empty rather than refused by the reference — a
    // refusal would repeat at every try, and the worker would never start.
    `INSERT INTO processes (kind, name, pid, hostname, supervisor_id, alive_threshold)
     SELECT $1, $2, $3, $4, (SELECT id FROM processes WHERE id = $5::bigint),
            make_interval(secs => $6 / 1000.0)
     RETURNING id`,
    [
      registration.kind,
      registration.name,
      process.pid,
      hostname(),
      registration.supervisorId ?? null,
      registration.aliveThresholdMs,
    ],
  );
  if (!row) throw new Error("Registering the process returned no row.");
  return row.id;
}

/**
 * Deletes the row on a clean exit: a process that said goodbye is not dead.
 * Refuses while the process still holds claims — then the row stays and
 * goes stale, which is the truth: those jobs were left behind, and recovery
 * sends them back when it prunes the row. Step 08's foreign key from
 * claimed_executions refused for it; step 10 has none (schema.sql), so the
 * DELETE says it. No claim of this process can come in between: its
 * claiming loop has stopped before it deregisters.
 */
export async function deregisterProcess(sql: Sql, processId: string): Promise<void> {
  const deleted = await sql.query(
    `DELETE FROM processes
     WHERE id = $1 AND NOT EXISTS (SELECT FROM claimed_executions WHERE process_id = $1)
     RETURNING id`,
    [processId],
  );
  if (deleted.length > 0) return;
  const [held] = await sql.query<{ claims: number }>(
    "SELECT count(*)::int AS claims FROM claimed_executions WHERE process_id = $1",
    [processId],
  );
  if (held && held.claims > 0) {
    throw new Error(
      `process ${processId} still holds ${held.claims} claim${held.claims === 1 ? "" : "s"}: its row stays, and recovery sends those jobs back once it goes stale`,
    );
  }
}
// #endregion register

/**
 * Every process, oldest first, and whether it counts as alive: its last
 * heartbeat is more recent than its own alive threshold. The database's
 * clock judges, never the caller's, so processes on several machines are
 * measured against one clock.
 */
// #region alive
export async function listProcesses(sql: Sql): Promise<ProcessReport[]> {
  const rows = await sql.query<{
    id: string;
    kind: string;
    name: string;
    pid: number;
    hostname: string;
    supervisor_id: string | null;
    age_ms: number;
    heartbeat_age_ms: number;
    alive_threshold_ms: number;
    alive: boolean;
  }>(
    `SELECT id, kind, name, pid, hostname, supervisor_id,
            extract(epoch FROM now() - created_at) * 1000 AS age_ms,
            extract(epoch FROM now() - last_heartbeat_at) * 1000 AS heartbeat_age_ms,
            extract(epoch FROM alive_threshold) * 1000 AS alive_threshold_ms,
            last_heartbeat_at > now() - alive_threshold AS alive
     FROM processes
     ORDER BY id`,
  );
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    name: row.name,
    pid: row.pid,
    hostname: row.hostname,
    supervisorId: row.supervisor_id,
    ageMs: Number(row.age_ms),
    heartbeatAgeMs: Number(row.heartbeat_age_ms),
    aliveThresholdMs: Number(row.alive_threshold_ms),
    alive: row.alive,
  }));
}
// #endregion alive

/**
 * `reset` while a process is registered and alive: it would drop the row the
 * running worker heartbeats and claims under, and the worker would fail on
 * it every second, for ever. (Step 08, where a process can lose its row for a
 * better reason — it was taken for dead — also registers again. It refuses
 * a reset all the same: the new tables count ids from 1 again, and a job
 * that ends late could then finish another job, claimed under the same ids.)
 */
export class LiveProcessesError extends Error {
  override name = "LiveProcessesError";
  constructor(live: readonly ProcessReport[]) {
    const described = live
      .map(
        (process_) =>
          `${process_.kind} ${process_.name} (pid ${process_.pid} on ${process_.hostname}, last heartbeat ${Math.round(process_.heartbeatAgeMs / 1000)} s ago)`,
      )
      .join("; ");
    super(
      `Not reset: ${live.length === 1 ? "a live process is" : `${live.length} live processes are`} registered — ${described}. Stop ${live.length === 1 ? "it" : "them"} first (Ctrl-C where ${live.length === 1 ? "it runs" : "they run"}). A process killed without stopping counts as dead once its alive threshold has passed, and reset goes ahead then.`,
    );
  }
}

/** Throws a {@link LiveProcessesError} if any registered process is alive; what `reset` checks first. */
export async function refuseWhileAlive(sql: Sql): Promise<void> {
  const live = (await listProcesses(sql)).filter((process_) => process_.alive);
  if (live.length > 0) throw new LiveProcessesError(live);
}

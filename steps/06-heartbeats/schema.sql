-- Step 02: the jobs table keeps every job, for ever (the history); a second,
-- small table holds only the jobs that are ready to run. A job's state is
-- which table its row is in: in ready_executions → ready; in
-- claimed_executions → claimed, running (step 05); finished_at set →
-- finished (or failed, with error).
CREATE TABLE IF NOT EXISTS jobs (
  id          bigserial PRIMARY KEY,
  -- The registered job name. The worker only runs names in its registry.
  name        text NOT NULL,
  -- JSON text, exactly as serializeArguments wrote it. (jsonb would reorder
  -- keys and reject "\u0000"; we keep the bytes and validate at both ends.)
  arguments   text NOT NULL,
  -- Set together with finished_at when perform threw.
  error       text,
  finished_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per job that is ready to run, deleted when a worker takes it. The
-- table stays as small as the backlog however long the history grows, so the
-- worker's query reads a handful of rows, not every job ever run.
-- Its primary key is the index the take query walks (ORDER BY job_id).
-- (Solid Queue's solid_queue_ready_executions, without queues and priorities:
-- those come in step 07.)
CREATE TABLE IF NOT EXISTS ready_executions (
  job_id     bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Step 06: one row per running process — a worker, or a supervisor of
-- workers — kept fresh by its heartbeat. A row whose heartbeat is older than
-- its alive threshold belongs to a process that is dead (or so stuck it might
-- as well be). (Solid Queue's solid_queue_processes.)
-- Created before claimed_executions, which points at it.
CREATE TABLE IF NOT EXISTS processes (
  id                bigserial PRIMARY KEY,
  -- 'Worker' or 'Supervisor'.
  kind              text NOT NULL,
  name              text NOT NULL,
  pid               integer NOT NULL,
  hostname          text NOT NULL,
  -- The supervisor that started it, if one did. A supervisor that exits
  -- cleanly deletes its row; a dead worker's row that still points at it is
  -- kept (it is the evidence), with the pointer cleared.
  supervisor_id     bigint REFERENCES processes (id) ON DELETE SET NULL,
  -- How long this process may stay silent before it counts as dead. Each
  -- process states its own, as Sidekiq's processes set the expiry of their
  -- own key; Solid Queue has one setting for the whole app instead. Stored
  -- here, whoever judges (stats, and step 08's pruning) needs no settings.
  alive_threshold   interval NOT NULL,
  last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
  created_at        timestamptz NOT NULL DEFAULT now()
);
-- No index for "which processes are dead?": the table has a row per running
-- process (a handful, or hundreds), and reading all of it is the fastest plan.

-- Step 05: one row per job a worker has claimed and is running. A claim
-- moves a job from ready_executions to here in one short transaction; the
-- job then runs with no transaction open, and finishing deletes this row in
-- another. So "running" is a row you can look at: who runs what, since when.
-- (Solid Queue's solid_queue_claimed_executions.)
CREATE TABLE IF NOT EXISTS claimed_executions (
  job_id     bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  -- Who claimed it. Step 06: a process row, so "is the claimer alive?" is a
  -- join away. A process cannot deregister while it holds claims (the
  -- reference forbids it): its row stays, goes stale, and says so.
  process_id bigint NOT NULL REFERENCES processes (id),
  claimed_at timestamptz NOT NULL DEFAULT now()
);
-- "Which jobs does process X hold?" — what recovering a dead worker's jobs
-- will ask (step 08), and, from step 06, what the reference checks when a
-- process deregisters (without it, every DELETE FROM processes would read
-- all of claimed_executions). Not needed by the claim or finish queries,
-- which go by job_id (the primary key).
CREATE INDEX IF NOT EXISTS claimed_executions_process_id ON claimed_executions (process_id);

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

-- Step 05: one row per job a worker has claimed and is running. A claim
-- moves a job from ready_executions to here in one short transaction; the
-- job then runs with no transaction open, and finishing deletes this row in
-- another. So "running" is a row you can look at: who runs what, since when.
-- (Solid Queue's solid_queue_claimed_executions.)
CREATE TABLE IF NOT EXISTS claimed_executions (
  job_id     bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  -- Who claimed it: the worker's name, host:pid. Plain text in this step:
  -- nothing checks that the process still exists (step 06 adds a processes
  -- table and makes this a reference to it).
  process_id text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now()
);
-- "Which jobs does process X hold?" — what recovering a dead worker's jobs
-- will ask (step 08). Not needed by the claim or finish queries, which go by
-- job_id (the primary key).
CREATE INDEX IF NOT EXISTS claimed_executions_process_id ON claimed_executions (process_id);

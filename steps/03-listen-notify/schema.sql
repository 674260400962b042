-- Unchanged from step 02: steps/02-ready-executions/schema.sql
-- Step 02: the jobs table keeps every job, for ever (the history); a second,
-- small table holds only the jobs that are ready to run. A job's state is
-- which table its row is in: in ready_executions → ready; finished_at set →
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

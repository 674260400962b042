-- Step 02: the jobs table keeps every job, for ever (the history); a second,
-- small table holds only the jobs that are ready to run. A job's state is
-- which table its row is in: in ready_executions → ready; in
-- scheduled_executions → waiting for its time (step 07: scheduled, or
-- retrying after a failure); in claimed_executions → claimed, running
-- (step 05); in failed_executions → failed for good, the dead queue (step
-- 07); finished_at set → finished.
CREATE TABLE IF NOT EXISTS jobs (
  id          bigserial PRIMARY KEY,
  -- The registered job name. The worker only runs names in its registry.
  name        text NOT NULL,
  -- JSON text, exactly as serializeArguments wrote it. (jsonb would reorder
  -- keys and reject "\u0000"; we keep the bytes and validate at both ends.)
  arguments   text NOT NULL,
  -- Step 07: the named queue it goes to, and how urgent it is (lower runs
  -- first; 100 unless told, as in Que). Copied into ready_executions, where
  -- the claim query reads them.
  queue_name  text NOT NULL DEFAULT 'default',
  priority    smallint NOT NULL DEFAULT 100 CHECK (priority >= 0),
  -- Attempts ended so far. Step 10 counts an attempt when it ends, in the
  -- statement that writes its outcome — or, when its worker died mid-run, in
  -- recovery's — rather than at the claim as step 07 did: one write of this
  -- row per attempt instead of two (see claims.ts).
  attempts    integer NOT NULL DEFAULT 0,
  -- The error of its latest failed attempt (kept when a later one succeeds:
  -- it is history, like the attempt count).
  error       text,
  finished_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per job that is ready to run, deleted when a worker takes it. The
-- table stays as small as the backlog however long the history grows, so the
-- worker's query reads a handful of rows, not every job ever run.
-- (Solid Queue's solid_queue_ready_executions.)
CREATE TABLE IF NOT EXISTS ready_executions (
  -- Step 10: no foreign key to jobs, here nor in claimed_executions (step
  -- 08 had one in each). A foreign key is checked for every row written:
  -- an index lookup in jobs and a lock on the job's row, in the statement
  -- that writes it — for every job, at its enqueue and at its claim, the
  -- two statements this step batches. Measured on 2 cores, 50,000 jobs
  -- enqueued 1,000 per call, five rounds alternating: 76,000 jobs/s with
  -- this one, 111,000 without. What the keys guarded against cannot happen
  -- here: a job's row is deleted by one statement only, the discard of a
  -- job in the dead queue (failed-executions.ts), and a job in the dead
  -- queue has no ready or claimed row — a retry moves it out of the dead
  -- queue by deleting its failed row first, and so does the discard, so
  -- only one of them ever gets it. The rarer writes keep theirs
  -- (scheduled_executions, failed_executions), and so does the claim's
  -- pointer to its process, which step 08's recovery relies on.
  job_id     bigint NOT NULL,
  -- Step 07: copies of the job's queue and priority, so that the claim
  -- query and its index need nothing but this small table.
  queue_name text NOT NULL,
  priority   smallint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Step 07: the claim order. The claim asks for the ready jobs of one
  -- queue at a time, in the order the worker lists its queues, most urgent
  -- first, oldest first within a priority (WHERE queue_name = $3 ORDER BY
  -- priority, job_id): this index holds them in exactly that order, so a
  -- claim reads the first few entries and stops, however long the backlog.
  -- Solid Queue's index_solid_queue_poll_by_queue is the same.
  -- Step 10: the claim order is the primary key, where step 08 had a key
  -- on job_id and the claim order as a second index: one index entry
  -- written per ready row instead of two, at every enqueue, release, retry
  -- and dispatch. It still admits at most one ready row per job: a job's
  -- queue and priority are written once, at its enqueue, and every ready
  -- row copies them from there, so a second ready row of a job would have
  -- the same key as the first. Nothing looks a ready row up by job_id alone
  -- (the claim deletes the rows it picked by their address, which relies on
  -- ready rows being only inserted and deleted, never updated: claims.ts).
  -- Measured on 2 cores, 50,000 jobs enqueued 1,000 per call, five rounds
  -- alternating: 51,454 jobs/s with both indexes, 57,178 with this one (on
  -- a slower day than the foreign key's figures above: compare ratios).
  PRIMARY KEY (queue_name, priority, job_id)
);

-- Step 07: jobs waiting for their time: enqueued for later (--at, --in), or
-- failed and waiting for their retry. The dispatcher moves those that are
-- due to ready_executions. (Solid Queue's solid_queue_scheduled_executions.)
CREATE TABLE IF NOT EXISTS scheduled_executions (
  job_id       bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  scheduled_at timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- "Which jobs are due, soonest first?" and "when is the next one due?": the
-- dispatcher's two questions, both a walk from the start of this index.
CREATE INDEX IF NOT EXISTS scheduled_executions_due
  ON scheduled_executions (scheduled_at, job_id);

-- Step 07: the dead queue — jobs whose last attempt failed, with why.
-- Nothing runs them again until someone retries them (npm run step 08 --
-- retry). (Solid Queue's solid_queue_failed_executions; Sidekiq's Dead set.)
CREATE TABLE IF NOT EXISTS failed_executions (
  job_id    bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  -- The last attempt's error, "Name: message", and its stack.
  error     text NOT NULL,
  stack     text,
  -- How many attempts it had in all.
  attempts  integer NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now()
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
  -- The supervisor that started it, if one did. When the supervisor's row
  -- goes (a clean exit, or step 08's pruning), a worker's row that still
  -- points at it keeps living, with the pointer cleared.
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
  -- Step 10: no foreign key to jobs (see ready_executions).
  job_id     bigint PRIMARY KEY,
  -- Who claimed it. Step 06: a process row, so "is the claimer alive?" is a
  -- join away. Step 10: without step 08's foreign key to that row, nor its
  -- index on this column. The key was checked for every claimed row (an
  -- index lookup and a lock of the same process row, a hundred times in a
  -- claim of a hundred), and the index, there for the key's check when a
  -- process row is deleted, was written for every claimed row too.
  -- Measured on 2 cores, seven rounds alternating, 10,000 no-op jobs:
  -- 15,605 jobs/s with both, 18,205 without (README: "No foreign keys on
  -- the hot path").
  -- What the key kept still holds, kept by the two statements that need it:
  -- no claim outlives its process row. The claim locks its claimer's row
  -- once, as the key's check did for each row (FOR KEY SHARE, claims.ts),
  -- so recovery cannot delete it under a claim being written; and a
  -- process deregisters only when it holds no claim (processes.ts). Those
  -- that look for a process's claims — recovery, and a stopping worker's
  -- release — read this small table whole: it holds the jobs running now,
  -- and they run when a process dies or stops, not per job.
  process_id bigint NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now()
);

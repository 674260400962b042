-- Step 02: the jobs table keeps every job, for ever (the history); a second,
-- small table holds only the jobs that are ready to run. A job's state is
-- which table its row is in: in ready_executions → ready; in
-- scheduled_executions → waiting for its time (step 07: scheduled, or
-- retrying after a failure); in claimed_executions → claimed, running
-- (step 05); in failed_executions → failed for good, the dead queue (step
-- 07); finished_at set → finished. Step 11: in blocked_executions → waiting
-- for a slot of its concurrency key.
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
  -- Step 07: attempts started so far. Counted when the job is claimed, not
  -- when it fails, so an attempt whose worker died mid-run counts too.
  attempts    integer NOT NULL DEFAULT 0,
  -- Step 11: the jobs with the same key share its limit (concurrency_keys);
  -- NULL for a job with no limit. On the job, so a retry, a scheduled job
  -- and a job put back from the dead queue keep it; copied into
  -- ready_executions and claimed_executions, where the slots are counted.
  concurrency_key text,
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
  job_id     bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  -- Step 07: copies of the job's queue and priority, so that the claim
  -- query and its index need nothing but this small table.
  queue_name text NOT NULL,
  priority   smallint NOT NULL,
  -- Step 11: the job's concurrency key, if it has one. A ready job with a
  -- key holds one of its key's slots (see concurrency_keys).
  concurrency_key text,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Step 11: "how many slots of key K are taken?" counts the ready and the
-- claimed rows of K: an index scan of at most `limit` entries each. Partial:
-- a job with no key costs this index nothing.
CREATE INDEX IF NOT EXISTS ready_executions_concurrency_key
  ON ready_executions (concurrency_key) WHERE concurrency_key IS NOT NULL;
-- Step 07: the claim order. The claim asks for the ready jobs of one queue
-- at a time, in the order the worker lists its queues, most urgent first,
-- oldest first within a priority (WHERE queue_name = $3 ORDER BY priority,
-- job_id): this index holds them in exactly that order, so a claim reads the
-- first few entries and stops, however long the backlog (the lesson shows
-- the plan). Solid Queue's index_solid_queue_poll_by_queue is the same.
CREATE INDEX IF NOT EXISTS ready_executions_claim_order
  ON ready_executions (queue_name, priority, job_id);

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
  job_id     bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  -- Who claimed it. Step 06: a process row, so "is the claimer alive?" is a
  -- join away. A process row cannot be deleted while it holds claims (the
  -- reference forbids it), so there are no orphaned claims: step 08's
  -- recovery moves a dead process's claims in the transaction that deletes
  -- its row, and a stopping worker releases its claims before it deregisters.
  process_id bigint NOT NULL REFERENCES processes (id),
  -- Step 11: the job's concurrency key, copied from its ready row: a
  -- claimed job holds the slot its ready row held.
  concurrency_key text,
  claimed_at timestamptz NOT NULL DEFAULT now()
);
-- Step 11: the claimed half of "how many slots of key K are taken?".
CREATE INDEX IF NOT EXISTS claimed_executions_concurrency_key
  ON claimed_executions (concurrency_key) WHERE concurrency_key IS NOT NULL;
-- "Which jobs does process X hold?" — what recovering a dead process's
-- jobs and releasing a stopping worker's ask (step 08), and, from step 06,
-- what the reference checks when a process row is deleted (without it, every
-- DELETE FROM processes would read all of claimed_executions). Not needed by
-- the claim, which goes by ready_executions, nor by the finish, which goes
-- by job_id (the primary key).
CREATE INDEX IF NOT EXISTS claimed_executions_process_id ON claimed_executions (process_id);

-- Step 11: one row per concurrency key, with its limit. A job with a key is
-- admitted — given a ready row — only while fewer than `max_running` jobs of
-- its key have a ready or claimed row. Those rows ARE the slots: there is no
-- counter to release, so no counter can be released twice (Solid Queue
-- #761) or drift; a slot is given back by deleting the claimed row, which
-- happens once, wherever it happens (a finish, recovery). This row is what
-- every admission locks (FOR NO KEY UPDATE), so that two transactions never count
-- the same free slot. The latest enqueue sets the limit.
CREATE TABLE IF NOT EXISTS concurrency_keys (
  key         text PRIMARY KEY,
  max_running integer NOT NULL CHECK (max_running >= 1)
);

-- Step 11: jobs waiting for a slot of their key: enqueued, due or retried
-- while the key's slots were taken. They cost nothing while they wait — no
-- worker looks at this table; the transaction that frees a slot of the key
-- moves the oldest of them to ready_executions. (Solid Queue's
-- solid_queue_blocked_executions.)
CREATE TABLE IF NOT EXISTS blocked_executions (
  job_id          bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  concurrency_key text NOT NULL REFERENCES concurrency_keys (key),
  created_at      timestamptz NOT NULL DEFAULT now()
);
-- "The oldest blocked jobs of key K": what admitting reads, in enqueue
-- (job id) order, and stops after the free slots.
CREATE INDEX IF NOT EXISTS blocked_executions_admission_order
  ON blocked_executions (concurrency_key, job_id);

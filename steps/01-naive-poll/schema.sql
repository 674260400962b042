-- Step 01: one table, as in the talk. A job is waiting while finished_at IS NULL.
CREATE TABLE IF NOT EXISTS jobs (
  id          bigserial PRIMARY KEY,
  -- The registered job name. The worker only runs names in its registry.
  name        text NOT NULL,
  -- JSON text, exactly as serializeArguments wrote it. (jsonb would reorder
  -- keys and reject "\u0000"; we keep the bytes and validate at both ends.)
  arguments   text NOT NULL,
  -- Set together with finished_at when perform threw. The talk's table has no
  -- such column, so a throwing job rolls back and is polled again, for ever.
  error       text,
  finished_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- Deliberately no index on finished_at: every poll reads past every finished
-- job. Step 02 fixes this with a small table of ready jobs instead.

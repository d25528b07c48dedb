-- Issue 3: the last error of a migration's jobs, where status and /api/migrations read it, so a
-- backfill that fails every tick is visible without the host's logs.

-- Set when a backfill batch fails, cleared by the next batch that commits.
ALTER TABLE backfill_progress
  ADD COLUMN last_error    text,
  ADD COLUMN last_error_at timestamptz;

-- Set when repair could not fix a report's keys (the report stays unrepaired, so the next run retries).
ALTER TABLE parity_reports
  ADD COLUMN repair_error    text,
  ADD COLUMN repair_error_at timestamptz;

-- Issue 3 §3, §5: what a parity report left out. Rows the new side recorded within the fence are
-- not compared (in-flight writes), so a report begun right after the last backfill batch may not
-- have compared that batch; the stage gate wants the batch before compared_through.

-- Rows written up to this moment (database clock) were compared; NULL for reports from before.
ALTER TABLE parity_reports
  ADD COLUMN compared_through timestamptz,
  ADD COLUMN rows_fenced      bigint NOT NULL DEFAULT 0;
